// The REST API driven by a signer we did not write: npm tls-sig-api-v2.
import { expect } from "@playwright/test";
// eslint-disable-next-line @typescript-eslint/no-var-requires
const TLSSigAPIv2 = require("tls-sig-api-v2");
import { SDKAPPID } from "../playwright.config";
import { dialog, rest, signedIn, test, unique } from "./console";

test("tls-sig-api-v2 reproduces the spec's test vector", () => {
  const realNow = Date.now;
  Date.now = () => 1700000000 * 1000;
  try {
    const api = new TLSSigAPIv2.Api(1400000000, "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e");
    expect(api.genUserSig("xiaojun", 15552000)).toBe(
      "eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwhWZiflZpXlQqeKU7MSCgswUJStDEwMogMiUZOamKlkZmqOKplYUZBaBxE1NTY3gosWZ6UpWSj5ljuYp*p7l5unBxXnF2WVhVU4uAf7Ozi5JpX7O5SbuHuUhzgZJmQXaTia2SrUAohcx8g__",
    );
  } finally {
    Date.now = realNow;
  }
});

test("a UserSig from tls-sig-api-v2 is accepted, and a tampered one is refused", async ({ request }) => {
  const owner = `sig-${Date.now().toString(36)}`;
  const ok = await rest(request, "im_open_login_svc/account_import", { UserID: owner });
  expect(ok).toMatchObject({ ActionStatus: "OK", ErrorCode: 0 });

  const other = new TLSSigAPIv2.Api(SDKAPPID, "some other key").genUserSig("administrator", 3600);
  const res = await request.post(`/v4/im_open_login_svc/account_check?sdkappid=${SDKAPPID}&identifier=administrator&usersig=${other}&random=1&contenttype=json`, {
    data: { CheckItem: [{ UserID: owner }] },
  });
  expect(await res.json()).toMatchObject({ ActionStatus: "FAIL", ErrorCode: 70009 });
});

test("an account created over REST appears in the console", async ({ page, request }) => {
  const owner = `rest-${Date.now().toString(36)}`;
  const name = unique("From REST");
  await rest(request, "im_open_login_svc/account_import", { UserID: owner });
  const created = await rest(request, "official_account_open_http_svc/create_official_account", {
    Owner_Account: owner,
    Name: name,
  });
  expect(created.ErrorCode).toBe(0);
  await signedIn(page);
  const row = page.getByRole("row", { name: new RegExp(name) });
  await expect(row).toBeVisible();
  await expect(row).toContainText(created.OfficialAccountUserID);
  await expect(row).toContainText(owner);
});

test("an account created in the console appears over REST", async ({ page, request }) => {
  const id = `@TOA#_console${Date.now().toString(36)}`;
  const name = unique("From console");
  await signedIn(page);
  await page.getByRole("button", { name: "New account" }).click();
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Owner", { exact: true }).fill("console-owner");
  await page.getByLabel("Custom ID (optional)").fill(id);
  await dialog(page).getByRole("button", { name: "Create" }).click();
  await expect(dialog(page)).toHaveCount(0);

  const info = await rest(request, "official_account_open_http_svc/get_official_account_info", {
    OfficialAccountIdList: [{ Official_Account: id }],
  });
  expect(info.OfficialAccountInfoList[0]).toMatchObject({
    ActionStatus: "OK",
    Official_Account: id,
    Name: name,
    Owner_Account: "console-owner",
  });
});

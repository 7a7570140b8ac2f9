import { expect } from "@playwright/test";
import { signedIn, signIn, test } from "./console";

test("signed out, the accounts page and / lead to sign-in", async ({ page }) => {
  await page.goto("/accounts");
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("heading", { name: "Sign in to Herald" })).toBeVisible();
});

test("a wrong password is refused with one message", async ({ page }) => {
  await signIn(page, "not the password");
  await expect(page.getByRole("alert")).toHaveText(/wrong user name or password/i);
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/accounts");
  await expect(page).toHaveURL(/\/login$/);
});

test("signing in shows the accounts; signing out ends the session", async ({ page, context }) => {
  await signedIn(page);
  await expect(page).toHaveURL(/\/accounts$/);
  const cookie = (await context.cookies()).find((c) => c.name === "herald_session");
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe("Lax");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/accounts");
  await expect(page).toHaveURL(/\/login$/);

  // The old cookie no longer opens the console: the session was deleted on the server.
  if (cookie) {
    await context.addCookies([cookie]);
    await page.goto("/accounts");
    await expect(page).toHaveURL(/\/login$/);
  }
});

// The post lifecycle as editors and subscribers see it (docs/rest-api.md §9): a sent post edited in the
// composer shows its Edited mark and versions, and the edit appears in place in /try; pinning puts
// a post first; a poll composed in the console is voted in from /try and the console's results
// change.
import { expect, Page } from "@playwright/test";
import { connectInTry, newAccount, openComposer, signedIn, test } from "./console";

/** /try as `user`, subscribed to `account` with its conversation open. */
async function subscribedInTry(page: Page, user: string, account: string, name: string) {
  await connectInTry(page, user);
  await page.getByLabel("Account ID").fill(account);
  await page.getByRole("button", { name: "Subscribe" }).click();
  await page.getByRole("navigation", { name: "Accounts" }).getByRole("button", { name }).click();
  await expect(page.getByRole("region", { name: "Conversation" })).toBeVisible();
}

test("a sent post is edited in the composer: the mark, its versions, the change in place in /try, and the pin on top", async ({ page, context, request }) => {
  const { id, name } = await newAccount(request, "Edits");
  await signedIn(page);
  const subscriber = await context.newPage();
  await subscribedInTry(subscriber, `edit-${Date.now().toString(36)}`, id, name);
  const conversation = subscriber.getByRole("region", { name: "Conversation" });

  await openComposer(page, id);
  await page.getByLabel("Body").fill("The sale ends **Friday** at $10.");
  await page.getByRole("button", { name: "Publish now" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Published." })).toBeVisible();
  await expect(conversation.getByText("at $10.")).toBeVisible();

  const row = page.getByRole("row").filter({ hasText: "at $10." });
  await row.getByRole("link", { name: /^Edit / }).click();
  await expect(page.getByRole("heading", { name: "Edit sent post" })).toBeVisible();
  await expect(page.getByLabel("Body")).toHaveValue("The sale ends **Friday** at $10.");
  await expect(page.getByRole("button", { name: "Publish now" })).toBeHidden();
  await page.getByLabel("Body").fill("The sale ends **Saturday** at $12.");
  await expect(page.getByRole("region", { name: "Preview" }).locator("strong", { hasText: "Saturday" })).toBeVisible();
  await page.getByRole("button", { name: "Save changes" }).click();

  await expect(page.getByRole("status").filter({ hasText: "Changes saved" })).toBeVisible();
  await expect(page.locator(".edited-badge")).toHaveText("Edited");
  const versions = page.getByRole("region", { name: "Versions" });
  await expect(versions.getByRole("listitem")).toHaveCount(2);
  await expect(versions.getByRole("listitem").first()).toContainText("Version 2 · admin");
  await expect(versions.getByRole("listitem").first()).toContainText("at $12.");
  await expect(versions.getByRole("listitem").last()).toContainText("Version 1 · sent");
  await expect(versions.getByRole("listitem").last()).toContainText("at $10.");

  // The subscriber's copy changed in place, marked as edited; no second message.
  await expect(conversation.getByText("at $12.")).toBeVisible();
  await expect(conversation.getByText("at $10.")).toBeHidden();
  await expect(conversation.locator(".edited")).toContainText("edited");
  await expect(conversation.getByRole("listitem")).toHaveCount(1);

  // A newer post, then pin the edited one: it comes first, in the console and on top in /try.
  await openComposer(page, id);
  await page.getByLabel("Body").fill("A newer post.");
  await page.getByRole("button", { name: "Publish now" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Published." })).toBeVisible();
  await page.getByRole("row").filter({ hasText: "at $12." }).getByRole("button", { name: /^Pin / }).click();
  const sent = page.locator("table.posts").last();
  await expect(sent.locator("tbody tr").first()).toContainText("Pinned");
  await expect(sent.locator("tbody tr").first()).toContainText("at $12.");
  await expect(subscriber.getByRole("region", { name: "Pinned post" })).toContainText("at $12.");
  await page.getByRole("row").filter({ hasText: "at $12." }).getByRole("button", { name: /^Unpin / }).click();
  await expect(sent.locator("tbody tr").first()).toContainText("A newer post.");
  await expect(subscriber.getByRole("region", { name: "Pinned post" })).toBeHidden();
});

test("a poll composed in the console is voted in from /try and the console's results change", async ({ page, context, request }) => {
  const { id, name } = await newAccount(request, "Polls");
  await signedIn(page);
  const subscriber = await context.newPage();
  await subscribedInTry(subscriber, `vote-${Date.now().toString(36)}`, id, name);
  const conversation = subscriber.getByRole("region", { name: "Conversation" });

  await openComposer(page, id);
  await page.getByRole("radio", { name: "Poll" }).check();
  await page.getByLabel("Question").fill("Where shall we meet?");
  await page.getByLabel("Option 1", { exact: true }).fill("Library");
  await page.getByLabel("Option 2", { exact: true }).fill("Park");
  await page.getByRole("button", { name: "Add option" }).click();
  await page.getByLabel("Option 3", { exact: true }).fill("Café");
  await page.getByRole("button", { name: "Move Option 3 up" }).click();
  await expect(page.getByLabel("Option 2", { exact: true })).toHaveValue("Café");
  await page.getByRole("button", { name: "Add option" }).click();
  await page.getByRole("button", { name: "Remove Option 4" }).click();
  await expect(page.getByLabel("Option 4", { exact: true })).toHaveCount(0);
  const preview = page.getByRole("region", { name: "Preview" });
  await expect(preview.getByText("Where shall we meet?")).toBeVisible();
  await expect(preview.getByRole("listitem")).toHaveText(["Library", "Café", "Park"]);
  // An empty option is refused before anything is sent, with a sentence.
  await page.getByRole("button", { name: "Add option" }).click();
  await page.getByRole("button", { name: "Publish now" }).click();
  await expect(page.getByText("Option 4 of the poll is empty.")).toBeVisible();
  await page.getByRole("button", { name: "Remove Option 4" }).click();
  await page.getByRole("button", { name: "Publish now" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Published." })).toBeVisible();

  // The subscriber votes; the choice is pressed and counted.
  const choices = conversation.getByRole("group", { name: "Vote: Where shall we meet?" });
  await expect(choices).toBeVisible();
  await choices.getByRole("button", { name: /Café/ }).click();
  await expect(choices.getByRole("button", { name: /Café/ })).toHaveAttribute("aria-pressed", "true");
  await expect(choices.getByRole("button", { name: /Café/ })).toContainText("1 vote");

  // The console's Posts page shows the result as a bar.
  await page.reload();
  const row = page.getByRole("row").filter({ hasText: "Where shall we meet?" });
  await expect(row.locator("meter")).toHaveCount(3);
  await expect(row.locator(".poll-votes").filter({ hasText: "1 (100%)" })).toBeVisible();
  await expect(row.locator(".poll-note")).toContainText("1 voter");

  // Changing the vote moves the count.
  await choices.getByRole("button", { name: /Park/ }).click();
  await expect(choices.getByRole("button", { name: /Park/ })).toHaveAttribute("aria-pressed", "true");
  await expect(choices.getByRole("button", { name: /Café/ })).toHaveAttribute("aria-pressed", "false");
  await page.reload();
  await expect(row.locator(".poll-options li").nth(2)).toContainText("1 (100%)");
  await expect(row.locator(".poll-options li").nth(1)).toContainText("0 (0%)");
});

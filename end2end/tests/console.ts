// Page helpers: locators live here, specs read as what a user does.
import { expect, Page } from "@playwright/test";
import { ADMIN_PASSWORD } from "../playwright.config";

export async function signIn(page: Page, password = ADMIN_PASSWORD) {
  await page.goto("/login");
  await page.getByLabel("User name").fill("admin");
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

export async function signedIn(page: Page) {
  await signIn(page);
  await expect(page.getByRole("heading", { name: "Official accounts" })).toBeVisible();
}

/** A name no other test uses. */
export function unique(prefix: string) {
  return `${prefix} ${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

export function dialog(page: Page) {
  return page.getByRole("dialog");
}

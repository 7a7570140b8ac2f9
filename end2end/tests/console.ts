// Page helpers: locators live here, specs read as what a user does.
import { test as base, expect, APIRequestContext, BrowserContext, Page } from "@playwright/test";
import { deflateSync } from "node:zlib";
import { ADMIN_PASSWORD, SDKAPPID, SECRET_KEY } from "../playwright.config";
// eslint-disable-next-line @typescript-eslint/no-var-requires
const TLSSigAPIv2 = require("tls-sig-api-v2");

/**
 * Waits until the console's WebAssembly has taken over the page (`app::hydrate` marks the body).
 * Before that, typing goes into the server's HTML and clicks reach no handler. Pages that are
 * not the console (the /try page, files) are left alone.
 */
export async function hydrated(page: Page) {
  const isConsole = await page
    .evaluate(() => document.querySelector('link[rel="stylesheet"][href^="/pkg/"]') !== null)
    .catch(() => false); // navigated away meanwhile
  if (isConsole) await page.locator("body[data-hydrated]").waitFor({ state: "attached", timeout: 15_000 });
}

/** Rust panics that console pages reported in the browser's console, by context. */
const panics = new WeakMap<BrowserContext, string[]>();

/**
 * Every page of `context` waits for hydration after `goto` and `reload`, and its Rust panics
 * (a failed hydration among them) are kept for `noPanics`.
 */
export function hydrating(context: BrowserContext) {
  const seen: string[] = [];
  panics.set(context, seen);
  context.on("page", (page) => {
    page.on("console", (message) => {
      if (message.type() === "error" && message.text().startsWith("panicked at")) seen.push(`${page.url()}: ${message.text().split("\n\nStack")[0]}`);
    });
    const goto = page.goto.bind(page);
    const reload = page.reload.bind(page);
    page.goto = async (...args: Parameters<Page["goto"]>) => {
      const response = await goto(...args);
      await hydrated(page);
      return response;
    };
    page.reload = async (...args: Parameters<Page["reload"]>) => {
      const response = await reload(...args);
      await hydrated(page);
      return response;
    };
  });
  return context;
}

/** Fails when a page of `context` panicked in WebAssembly (the console then stops responding). */
export function noPanics(context: BrowserContext) {
  expect(panics.get(context) ?? [], "Rust panics in the browser").toEqual([]);
}

/**
 * Playwright's `test`, with pages that wait for hydration after each load; a test whose pages
 * panicked in WebAssembly fails, even if what it checked still passed.
 */
export const test = base.extend({
  context: async ({ context }, use) => {
    await use(hydrating(context));
    noPanics(context);
  },
});

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

function adminSig(): string {
  return new TLSSigAPIv2.Api(SDKAPPID, SECRET_KEY).genUserSig("administrator", 3600);
}

/** One REST call as the administrator; answers the JSON body. */
export async function rest(request: APIRequestContext, path: string, body: object) {
  const random = Math.floor(Math.random() * 2 ** 32);
  const url = `/v4/${path}?sdkappid=${SDKAPPID}&identifier=administrator&usersig=${adminSig()}&random=${random}&contenttype=json`;
  const res = await request.post(url, { data: body });
  expect(res.status()).toBe(200);
  return res.json();
}

/** A fresh official account (over REST), its ID and name. */
export async function newAccount(request: APIRequestContext, prefix = "Posts") {
  const owner = `own-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const name = unique(prefix);
  await rest(request, "im_open_login_svc/account_import", { UserID: owner });
  const created = await rest(request, "official_account_open_http_svc/create_official_account", { Owner_Account: owner, Name: name });
  expect(created.ErrorCode).toBe(0);
  return { id: created.OfficialAccountUserID as string, name };
}

export function accountPath(id: string) {
  return `/accounts/${encodeURIComponent(id)}`;
}

/** Opens the composer of account `id`; its time zone is shown with the offset. */
export async function openComposer(page: Page, id: string) {
  await page.goto(`${accountPath(id)}/posts/new`);
  await expect(page.locator("#publish-at-zone")).toHaveText(/Time zone: .*UTC[+-]\d\d:\d\d/);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A real PNG of `width`×`height` (a gradient), for uploads. */
export function png(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.writeUInt8(8, 8); // bit depth
  header.writeUInt8(2, 9); // RGB
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = y * (width * 3 + 1) + 1 + x * 3;
      rows[at] = (x * 255) / width;
      rows[at + 1] = (y * 255) / height;
      rows[at + 2] = 120;
    }
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk("IHDR", header), chunk("IDAT", deflateSync(rows)), chunk("IEND", Buffer.alloc(0))]);
}

/** Opens /try as `user` with a test UserSig minted by the signed-in platform owner. */
export async function connectInTry(page: Page, user: string) {
  await page.goto("/try");
  await page.getByLabel("User ID").fill(user);
  await page.getByRole("button", { name: "Get a test UserSig" }).click();
  await expect(page.getByLabel("UserSig")).not.toHaveValue("");
  await page.getByRole("button", { name: "Connect" }).click();
  await expect(page.getByRole("heading", { name: new RegExp(`Signed in as ${user}`) })).toBeVisible();
}

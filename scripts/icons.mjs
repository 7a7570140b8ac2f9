// Makes the web app icons (public/icon-192.png, icon-512.png, apple-touch-icon.png) from
// public/favicon.svg with the test suite's Chromium. Run after changing the favicon:
//   node scripts/icons.mjs        (needs end2end/node_modules: scripts/setup.sh --for-tests)
import { chromium } from "../end2end/node_modules/playwright-core/index.mjs";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const svg = readFileSync(`${root}public/favicon.svg`, "utf8");
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium" });
for (const [size, name, padding] of [[192, "icon-192.png", 0], [512, "icon-512.png", 0], [180, "apple-touch-icon.png", 0]]) {
  const page = await browser.newPage({ viewport: { width: size, height: size } });
  await page.setContent(`<html><body style="margin:0;background:transparent">${svg.replace("<svg ", `<svg width="${size - 2 * padding}" height="${size - 2 * padding}" style="display:block;margin:${padding}px" `)}</body></html>`);
  await page.screenshot({ path: `${root}public/${name}`, omitBackground: true });
  await page.close();
}
await browser.close();

import { defineConfig } from "@playwright/test";

// scripts/test.sh picks a free port and a fresh SQLite file, then runs `npx playwright test`.
const port = Number(process.env.HERALD_E2E_PORT ?? 3100);
const database = process.env.HERALD_E2E_DB ?? "sqlite://../target/e2e/e2e.db";
export const baseURL = `http://127.0.0.1:${port}`;

// The REST identity the tests sign UserSigs with (a test key, never a real one).
export const SDKAPPID = 1400000001;
export const SECRET_KEY = "e2e-secret-key-0123456789abcdef";
export const ADMIN_PASSWORD = "correct horse battery";

export default defineConfig({
  testDir: "./tests",
  fullyParallel: false,
  workers: 1,
  forbidOnly: true,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: {
      // Debian's chromium; `npx playwright install` cannot download here.
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run",
      ],
    },
  },
  webServer: {
    command: "../target/release/server",
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      HERALD_ADDR: `127.0.0.1:${port}`,
      DATABASE_URL: database,
      HERALD_ADMIN_PASSWORD: ADMIN_PASSWORD,
      HERALD_SDKAPPID: String(SDKAPPID),
      HERALD_SECRET_KEY: SECRET_KEY,
      // The default, given in the environment: the Settings page shows that field locked.
      HERALD_REST_CALLS_PER_SECOND: "200",
      LEPTOS_SITE_ROOT: "../target/site",
      LEPTOS_OUTPUT_NAME: "herald",
      RUST_LOG: "info",
    },
  },
});

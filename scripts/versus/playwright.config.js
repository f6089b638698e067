// The book's six superlists scenarios in Playwright Test, as its own documentation
// would have them written: one worker, no parallelism inside a file, the headless
// shell ft starts (Debian's chromium-headless-shell, no browser download), against
// the server scripts/bench.py --versus starts (VERSUS_BASE_URL).
const { defineConfig } = require("@playwright/test");

if (!process.env.VERSUS_BASE_URL) {
  throw new Error("failed to find VERSUS_BASE_URL: the app's URL, e.g. http://127.0.0.1:8000");
}

module.exports = defineConfig({
  testDir: "tests",
  workers: 1,
  fullyParallel: false,
  retries: 0,
  reporter: "list",
  // Results and traces of failures go to the OS's temp dir, never into the repo.
  outputDir: require("path").join(require("os").tmpdir(), "ft-versus-playwright"),
  use: {
    baseURL: process.env.VERSUS_BASE_URL,
    headless: true,
    launchOptions: {
      executablePath: process.env.VERSUS_CHROMIUM || "/usr/lib/chromium/chromium-headless-shell",
    },
  },
});

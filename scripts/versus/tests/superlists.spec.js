// The book's functional tests (Test-Driven Development with Python, 3rd edition): the
// same six scenarios as ft's built-in suite runs with
// --filter "can start" --filter "multiple users" --filter "layout" --filter "cannot add"
// --filter "error messages", written the way Playwright's documentation writes tests:
// page.fill and auto-waiting expect().
const { test, expect } = require("@playwright/test");

// The book's ListPage.add_list_item: count the rows, type the item, press Enter, and
// wait for the list to show it as the next row.
async function addListItem(page, text) {
  const rows = page.locator("#id_list_table tr");
  const before = await rows.count();
  await page.locator("#id_text").fill(text);
  await page.locator("#id_text").press("Enter");
  await expect(rows.nth(before)).toHaveText(`${before + 1}: ${text}`);
}

async function expectRow(page, row) {
  await expect(page.locator("#id_list_table tr", { hasText: new RegExp(`^${row}$`) })).toHaveCount(1);
}

async function expectCentred(page) {
  const box = await page.locator("#id_text").boundingBox();
  expect(Math.abs(box.x + box.width / 2 - 512)).toBeLessThanOrEqual(10);
}

test("can start a to-do list", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveTitle(/To-Do/);
  await expect(page.locator("h1")).toContainText("To-Do");
  await expect(page.locator("#id_text")).toHaveAttribute("placeholder", "Enter a to-do item");
  await addListItem(page, "Buy peacock feathers");
  await addListItem(page, "Use peacock feathers to make a fly");
  await expectRow(page, "1: Buy peacock feathers");
});

test("multiple users can start lists at different urls", async ({ page, browser }) => {
  await page.goto("/");
  await addListItem(page, "Buy peacock feathers");
  await expect(page).toHaveURL(/\/lists\/.+/);
  const edithUrl = page.url();
  // A new user, Francis: a new browser context, with none of Edith's cookies or storage.
  const francisContext = await browser.newContext();
  const francis = await francisContext.newPage();
  await francis.goto("/");
  await expect(francis.locator("body")).not.toContainText("Buy peacock feathers");
  await addListItem(francis, "Buy milk");
  await expect(francis).toHaveURL(/\/lists\/.+/);
  expect(francis.url()).not.toBe(edithUrl);
  await expect(francis.locator("body")).not.toContainText("Buy peacock feathers");
  await expect(francis.locator("body")).toContainText("Buy milk");
  await francisContext.close();
});

test("layout and styling", async ({ page }) => {
  await page.setViewportSize({ width: 1024, height: 768 });
  await page.goto("/");
  await expectCentred(page);
  await addListItem(page, "testing");
  await expectCentred(page);
});

test("cannot add empty list items", async ({ page }) => {
  await page.goto("/");
  await page.locator("#id_text").press("Enter");
  await expect(page.locator("#id_text:invalid")).toBeAttached();
  await page.locator("#id_text").fill("Purchase milk");
  await expect(page.locator("#id_text:valid")).toBeAttached();
  await page.locator("#id_text").press("Enter");
  await expectRow(page, "1: Purchase milk");
  await page.locator("#id_text").press("Enter");
  await expectRow(page, "1: Purchase milk");
  await expect(page.locator("#id_text:invalid")).toBeAttached();
  await page.locator("#id_text").fill("Make tea");
  await expect(page.locator("#id_text:valid")).toBeAttached();
  await page.locator("#id_text").press("Enter");
  await expectRow(page, "1: Purchase milk");
  await expectRow(page, "2: Make tea");
});

test("cannot add duplicate items", async ({ page }) => {
  await page.goto("/");
  await addListItem(page, "Buy wellies");
  await page.locator("#id_text").fill("Buy wellies");
  await page.locator("#id_text").press("Enter");
  await expect(page.locator(".invalid-feedback")).toHaveText("You've already got this in your list");
  await expect(page.locator(".invalid-feedback")).toBeVisible();
});

test("error messages are cleared on input", async ({ page }) => {
  await page.goto("/");
  await addListItem(page, "Banter too thick");
  await page.locator("#id_text").fill("Banter too thick");
  await page.locator("#id_text").press("Enter");
  await expect(page.locator(".invalid-feedback")).toBeVisible();
  await page.locator("#id_text").pressSequentially("a");
  await expect(page.locator(".invalid-feedback")).toBeHidden();
});

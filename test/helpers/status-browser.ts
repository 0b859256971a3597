// Headless Chromium for the status page tests: playwright-core driving the browser that the
// @sparticuz/chromium package ships (nothing is downloaded at run time), opened on the page at the
// size the tests read, and waited on until the page says it is ready.
import chromium from "@sparticuz/chromium";
import { chromium as playwright, type Browser, type Page, type Response } from "playwright-core";

export interface OpenedPage {
  /** Closed by the caller (afterAll), or here when the page never got ready. */
  browser: Browser;
  page: Page;
  /** The page's own response (status, headers, body). */
  response: Response;
}

/**
 * Opens `url` in a new headless Chromium and waits up to `readyMs` for `body[data-ready=true]`. If
 * it never comes the error names what the page threw (and, with `consoleErrors`, what it logged
 * as an error), and the browser is closed.
 */
export async function openStatusPage(
  url: string,
  options: { readyMs: number; consoleErrors?: boolean },
): Promise<OpenedPage> {
  const browser = await playwright.launch({
    executablePath: await chromium.executablePath(),
    args: chromium.args,
    headless: true,
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, locale: "en-US" });
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));
    if (options.consoleErrors) page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    const response = await page.goto(url);
    if (!response) throw new Error(`no response for ${url}`);
    await page.waitForSelector("body[data-ready=true]", { timeout: options.readyMs }).catch((err: Error) => {
      throw new Error(`the page did not get ready: ${errors.join("; ") || err.message}`);
    });
    return { browser, page, response };
  } catch (err) {
    await browser.close();
    throw err;
  }
}

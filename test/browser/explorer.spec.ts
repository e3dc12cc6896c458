import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createSampleApp, type SampleApp } from '../../sample-app/sample-app.factory.js';
import { apiClient, seedRefundedAndWaiting } from '../sample/sample-http.js';
import { findChromium } from '../support/chromium.js';
import { testRedisUrl } from '../support/test-app.js';
import { until } from '../support/until.js';

/**
 * The workflow explorer in a real browser (headless Chromium from Debian's package): a person
 * on call finds a refunded transfer, reads its timeline, and cancels a waiting transfer from its
 * page, after querying it and changing its approval limit with an update. Screenshots go to
 * dist/test-output/browser/; those the documentation shows (the list, a transfer's page with its
 * saga, Bull Board) are written again to docs/public/screenshots/ on every run.
 */
const executable = findChromium();
if (!executable && process.env.CI)
  throw new Error(
    "No Chromium found in CI: .ci/run installs Debian's chromium package; set CHROMIUM_PATH if it lives elsewhere",
  );
if (!executable)
  console.warn(
    "Skipping the explorer browser test: no Chromium found (install Debian's `chromium` package or set CHROMIUM_PATH)",
  );
const maybe = executable ? test : test.skip;
const SHOTS = fileURLToPath(new URL('../../dist/test-output/browser/', import.meta.url));
const DOCS_SHOTS = fileURLToPath(new URL('../../docs/public/screenshots/', import.meta.url));

let sample: SampleApp;
let browser: Browser;
let page: Page;
let refunded: string;
let waiting: string;

beforeAll(async () => {
  if (!executable) return;
  mkdirSync(SHOTS, { recursive: true });
  mkdirSync(DOCS_SHOTS, { recursive: true });
  sample = await createSampleApp({
    redisUrl: testRedisUrl(),
    port: 0,
    prefix: `browser-${randomUUID().slice(0, 8)}`,
    logger: false,
    approvalLimit: 500,
    durable: { leaseTtl: '2s', sweepInterval: '500ms' },
  });
  const api = apiClient(sample.url);
  ({ refunded, waiting } = await seedRefundedAndWaiting(api));
  browser = await chromium.launch({ executablePath: executable, headless: true, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await sample?.close();
});

describe('the workflow explorer in Chromium', () => {
  maybe(
    'find the refunded transfer, read its timeline, query, update and cancel a waiting transfer from its page',
    async () => {
      await page.goto(`${sample.url}/workflows`);
      await expect(page.locator('h1').textContent()).resolves.toBe('Workflows');
      expect(await page.locator('table.workflows tbody tr').count()).toBe(2);
      await page.screenshot({ path: `${SHOTS}01-list.png`, fullPage: true });
      await page.screenshot({ path: `${DOCS_SHOTS}explorer-list.png`, fullPage: true });

      // Filter to failed workflows: only the refunded transfer is left.
      await page.selectOption('select[name=status]', 'failed');
      await page.click('form.filters button[type=submit]');
      await page.waitForURL(/status=failed/);
      const rows = page.locator('table.workflows tbody tr');
      expect(await rows.count()).toBe(1);
      expect(await rows.first().textContent()).toContain(refunded);
      await page.screenshot({ path: `${SHOTS}02-filtered.png`, fullPage: true });

      // The query box: the same filter as a query, then a typo, which the server refuses with its position.
      await page.goto(`${sample.url}/workflows`);
      await page.fill(
        'form.filters input[name=query]',
        "ExecutionStatus = 'failed' AND WorkflowType = 'TransferWorkflow'",
      );
      await page.click('form.filters button[type=submit]');
      await page.waitForURL(/query=/);
      expect(await rows.count()).toBe(1);
      expect(await rows.first().textContent()).toContain(refunded);
      const typo = await page.goto(`${sample.url}/workflows?query=${encodeURIComponent("Stauts = 'failed'")}`);
      expect(typo?.status()).toBe(400);
      expect(await page.content()).toContain("position 0: unknown field 'Stauts'");
      await page.goBack();
      await page.waitForURL(/query=/);
      expect(await rows.first().locator('td.search-attributes').textContent()).toContain('amount=40');
      await page.screenshot({ path: `${SHOTS}02b-queried.png`, fullPage: true });

      // Its page: withdraw done, the deposit failed, the refund undid the withdrawal.
      await page.click(`a[href="/workflows/${refunded}"]`);
      await page.waitForURL(new RegExp(`/workflows/${refunded}$`));
      const span = (name: string) => page.locator(`tr.span[data-name="${name}"]`);
      expect(await span('withdraw').getAttribute('data-status')).toBe('completed');
      expect(await span('deposit').getAttribute('data-status')).toBe('failed');
      expect(await span('deposit').textContent()).toContain('is frozen');
      expect(await span('refund').getAttribute('class')).toContain('compensation');
      expect(await span('refund').textContent()).toContain('compensation');
      await page.screenshot({ path: `${SHOTS}03-refunded-transfer.png`, fullPage: true });
      await page.screenshot({ path: `${DOCS_SHOTS}explorer-workflow.png`, fullPage: true });
      await page.click('details summary');
      await page.locator('#raw-history', { hasText: 'WorkflowExecutionStarted' }).waitFor();

      // The waiting transfer: ask where it stands, then lower its approval limit (a refused value
      // first), from its page; the result or the refusal shows under the forms.
      await page.goto(`${sample.url}/workflows/${waiting}`);
      const shown = page.locator('#message-result');
      await page.fill('form[data-action=query] input[name=name]', 'stage');
      await page.click('form[data-action=query] button');
      await page.locator('#message-result', { hasText: 'Result of query "stage"' }).waitFor();
      expect(await shown.textContent()).toContain('"stage": "awaiting-approval"');
      await page.fill('form[data-action=update] input[name=name]', 'changeApprovalLimit');
      await page.fill('form[data-action=update] input[name=args]', '[0]');
      page.once('dialog', (dialog) => void dialog.accept());
      await page.click('form[data-action=update] button');
      await page.locator('#message-result', { hasText: 'Refused (409)' }).waitFor();
      expect(await shown.textContent()).toContain('the approval limit must be a positive whole amount (got 0)');
      await page.fill('form[data-action=update] input[name=args]', '[800]');
      page.once('dialog', (dialog) => void dialog.accept());
      await page.click('form[data-action=update] button');
      await page.locator('#message-result', { hasText: 'Result of update "changeApprovalLimit"' }).waitFor();
      expect(await shown.textContent()).toContain('"limit": 800');
      await page.screenshot({ path: `${SHOTS}04a-query-and-update.png`, fullPage: true });

      // Then cancel it from its page, confirming the dialog.
      await page.fill('form[data-action=cancel] input[name=reason]', 'customer called');
      page.once('dialog', (dialog) => void dialog.accept());
      await page.click('form[data-action=cancel] button');
      await page.locator('#action-result', { hasText: 'Done: cancellation requested' }).waitFor();
      await page.screenshot({ path: `${SHOTS}04-cancel-requested.png`, fullPage: true });
      await until('the cancelled transfer to close', async () => {
        await page.goto(`${sample.url}/workflows/${waiting}`);
        return (await page.locator('h1 .status').textContent()) !== 'running';
      });
      expect(await page.locator('tr.span[data-name="refund"]').getAttribute('data-status')).toBe('completed');
      await page.screenshot({ path: `${SHOTS}05-cancelled-transfer.png`, fullPage: true });

      // Bull Board, over the same queues (for the documentation: no assertion of its own).
      await page.goto(`${sample.url}/queues`, { waitUntil: 'networkidle' });
      await page.getByText('transfers-activities').first().waitFor();
      await page.screenshot({ path: `${DOCS_SHOTS}bull-board.png`, fullPage: true });
    },
    60_000,
  );
});

import { existsSync } from 'node:fs';

/** A Chromium to drive: $CHROMIUM_PATH, else Debian's `chromium` (what .ci/run installs), else other usual places. */
export function findChromium(): string | undefined {
  const candidates = [
    process.env.CHROMIUM_PATH,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
  ];
  return candidates.find((p): p is string => !!p && existsSync(p));
}

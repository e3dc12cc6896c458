/** How often an attempt's heartbeat details are written at most (the last ones are always written if the attempt fails). */
const WRITE_EVERY_MS = 1000;

/**
 * The details an activity attempt passes to `heartbeat(details)`, kept so that the next
 * attempt reads them as `activityContext().heartbeatDetails`: written (encoded) through `write`
 * at most once a second, the latest always; `flush()` writes what is pending at once (a failed
 * attempt, before its retry).
 */
export class HeartbeatDetails {
  private pending?: string;
  private timer?: NodeJS.Timeout;
  private lastWrite = 0;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly write: (encoded: string) => Promise<void>) {}

  record(encoded: string): void {
    this.pending = encoded;
    if (this.timer) return;
    this.timer = setTimeout(() => void this.flush(), Math.max(0, this.lastWrite + WRITE_EVERY_MS - Date.now()));
    this.timer.unref();
  }

  /** Writes the pending details now; never throws (a failed write leaves the previous ones). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const encoded = this.pending;
    this.pending = undefined;
    if (encoded !== undefined) {
      this.lastWrite = Date.now();
      this.writing = this.writing.then(() => this.write(encoded)).catch(() => undefined);
    }
    await this.writing;
  }

  /** Stops writing (the attempt succeeded: nobody reads them again). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }
}

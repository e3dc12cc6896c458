/** Base class of every error the library raises on its own behalf (not failures coming from user code). */
export class RedurableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

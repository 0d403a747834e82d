/**
 * Group commit: release rows that arrive while the event loop is busy are written in one
 * transaction, so one durable commit (one fsync of SQLite's WAL, one PostgreSQL commit) answers for
 * all of them instead of one each. Every caller still resolves only after the commit that holds its
 * row returned, with its own answer (whether its row was the one written); a failed commit rejects
 * every caller of that batch and writes none of their rows.
 *
 * Rows of the same access in one batch: only the first goes to the database; the others are answered
 * false once it committed (a multi-row insert would report the id once, for both), or share its error.
 */
export class GroupCommit<T extends { accessId: string }> {
  readonly #write: (rows: T[]) => Promise<boolean[]> | boolean[];
  readonly #maxInFlight: number;
  #pending: { row: T; resolve(written: boolean): void; reject(error: unknown): void }[] = [];
  #inFlight = 0;
  #scheduled = false;

  /**
   * @param write writes the rows in one transaction and returns, per row, whether it was written
   * @param maxInFlight batches being written at once; more rows wait and form the next batch
   */
  constructor(write: (rows: T[]) => Promise<boolean[]> | boolean[], maxInFlight = 1) {
    this.#write = write;
    this.#maxInFlight = maxInFlight;
  }

  /** Writes `row` with the rows around it; true if this row was written. */
  submit(row: T): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ row, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#pending.length === 0 || this.#inFlight >= this.#maxInFlight) return;
    this.#scheduled = true;
    // After this turn's I/O callbacks: every request that reached this point in the turn joins.
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    if (this.#inFlight >= this.#maxInFlight) return;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    this.#inFlight++;
    const seen = new Set<string>();
    const first: typeof batch = [];
    const repeated: typeof batch = [];
    for (const entry of batch) {
      if (seen.has(entry.row.accessId)) repeated.push(entry);
      else {
        seen.add(entry.row.accessId);
        first.push(entry);
      }
    }
    try {
      const written = await this.#write(first.map((entry) => entry.row));
      first.forEach((entry, i) => entry.resolve(written[i] === true));
      for (const entry of repeated) entry.resolve(false);
    } catch (error) {
      for (const entry of [...first, ...repeated]) entry.reject(error);
    } finally {
      this.#inFlight--;
      this.#schedule();
    }
  }
}

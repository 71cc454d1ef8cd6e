/**
 * The seam between the mini-program client and its resource modules (shipping, …): a resource only
 * needs "POST this body to this API with a token and these retry rules". Kept apart so resources
 * never import the client.
 */

/**
 * Retries of errcodes WeChat documents as transient (system busy; 10060001 right after payment).
 * Delays double from `delayMs` up to `maxDelayMs`.
 */
export interface TransientRetryOptions {
  /** Total attempts, the first included. Default 4 (waits of 1 s, 2 s, 4 s). */
  attempts?: number
  /** First wait. Default 1 000 ms. */
  delayMs?: number
  /** Longest wait. Default 10 000 ms. */
  maxDelayMs?: number
}

/** Per-call options of the mini-program server APIs. */
export interface MiniProgramCallOptions {
  signal?: AbortSignal
  /** Overrides the client's {@link TransientRetryOptions} for this call; `false`: no retries. */
  retry?: TransientRetryOptions | false
}

/** What a resource module asks of the client. */
export interface MiniProgramCaller {
  readonly appid: string
  /**
   * POSTs `body` as JSON to `api` with the access_token and returns the answer, or throws the
   * `MiniProgramError` of a non-zero errcode. `retryOn` lists the errcodes retried as transient.
   */
  call<T>(
    api: string,
    body: unknown,
    retryOn: readonly number[],
    options?: MiniProgramCallOptions,
  ): Promise<T>
}

/** `ms`, or earlier when `signal` aborts (then it rejects). Injected so tests never wait. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>

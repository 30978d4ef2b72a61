// The live stream: one EventSource, its state for the header indicator, and debounced refreshes.

const RETRY_AFTER_CLOSE_MS = 3000;

export class LiveStream {
  /**
   * handlers: {task(payload), remove({task_id}), service(payload),
   * state("connecting"|"open"|"down"), reopened(), closed()}
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.source = null;
    this.state = "connecting";
    this.wasDown = false;
    this.retryTimer = null;
  }

  start() {
    this.stop();
    const source = new EventSource("/api/v1/events", { withCredentials: false });
    this.source = source;
    this.setState("connecting");
    source.addEventListener("open", () => {
      this.setState("open");
      if (this.wasDown) this.handlers.reopened?.();
      this.wasDown = false;
    });
    source.addEventListener("error", () => {
      this.wasDown = true;
      this.setState("down");
      if (source.readyState === EventSource.CLOSED) {
        // A refused stream (e.g. an expired session) is not retried by the browser.
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this.handlers.closed?.(), RETRY_AFTER_CLOSE_MS);
      }
    });
    for (const kind of ["task", "remove", "service"]) {
      source.addEventListener(kind, (event) => {
        let payload = {};
        try {
          payload = JSON.parse(event.data);
        } catch {
          return;
        }
        this.handlers[kind]?.(payload);
      });
    }
  }

  stop() {
    clearTimeout(this.retryTimer);
    if (this.source) this.source.close();
    this.source = null;
  }

  setState(state) {
    this.state = state;
    this.handlers.state?.(state);
  }
}

/** `fn` called once `waitMs` after the last call, and at least every `maxWaitMs` under a stream. */
export function debounce(fn, waitMs, maxWaitMs) {
  let timer = null;
  let first = 0;
  return () => {
    const now = Date.now();
    if (!timer) first = now;
    clearTimeout(timer);
    const delay = Math.max(0, Math.min(waitMs, first + maxWaitMs - now));
    timer = setTimeout(() => {
      timer = null;
      fn();
    }, delay);
  };
}

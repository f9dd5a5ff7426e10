import { EventEmitter } from 'node:events';
import type { JobEvents } from './types.ts';

/** The event side of a job handle, shared by the local scheduler's jobs and queue-mode jobs. */
export class JobEmitter<T> extends EventEmitter<JobEvents<T>> {
  /**
   * Emits without letting a listener's throw unwind into the caller (the lane or the event
   * relay), which would leave it half-way through a state change. The error still surfaces, as
   * an uncaught exception, like any emitter's.
   */
  protected readonly tell: EventEmitter<JobEvents<T>>['emit'] = (event, ...args) => {
    try {
      return this.emit(event, ...args);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
      return true;
    }
  };
}

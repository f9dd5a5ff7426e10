/**
 * The scheduler: fair per-user queues, priorities, batching, cancellation and timeouts. The
 * one module the engine and the queue's remote jobs take it from.
 */
export { Scheduler } from './scheduler.ts';
export { JobEmitter } from './job-emitter.ts';
export type {
  BatchItem,
  BatchRunner,
  BatchSpec,
  JobContext,
  JobEvents,
  JobHandle,
  JobSpec,
  JobStage,
  SchedulerOptions,
  SchedulerStats,
} from './types.ts';

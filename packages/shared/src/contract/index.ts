// The API contract: TypeBox schemas and their static types. Imports only TypeBox, so the
// frontend and desktop can use it without pulling in Fastify or BullMQ.
export * from './bulk.ts';
export * from './errors.ts';
export * from './event-id.ts';
export * from './lease.ts';
export * from './queue.ts';
export * from './remote-serving.ts';
export * from './schedule.ts';
export * from './services.ts';
export * from './session.ts';
export * from './system.ts';
export * from './task.ts';
export * from './task-id.ts';
export * from './worker-token.ts';

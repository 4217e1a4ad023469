import type { TSchema } from '@sinclair/typebox';
import type { DeclareWorkflow, RemoteWorkflow } from '@taskdock/shared/contract';
import { duplicateConnection, type RedisConnection } from '@taskdock/shared/node/redis-connection';
import type { Logger } from 'pino';
import { ConflictError, InvalidInputError, NotFoundError } from '../engine/errors.ts';
import { REMOTE_CHANGED_CHANNEL, REMOTE_QUEUES_KEY, REMOTE_WORKFLOWS_KEY } from '../tasks/keys.ts';
import { createWorkflowRegistry, type WorkflowRegistry } from '../workflows/registry.ts';
import { TaskFailure, type Workflow } from '../workflows/workflow.ts';

/** Declarations are re-read this often even without a change message (a missed publish). */
const RELOAD_EVERY_MS = 5000;

/** A remote workflow as the registry holds it: its code runs on remote workers only. */
function toWorkflow(declared: RemoteWorkflow): Workflow {
  return {
    name: declared.name,
    description: declared.description,
    paramsSchema: declared.paramsSchema as TSchema,
    remote: true,
    async run() {
      throw new TaskFailure(`"${declared.name}" runs on remote workers only`, 'REMOTE_ONLY');
    },
  } as Workflow;
}

/**
 * Remote workflow declarations, kept in Redis so every API host sees them and mirrored here for
 * the synchronous registry: reloaded on a change message and every few seconds.
 */
export class RemoteWorkflows {
  readonly #redis: RedisConnection;
  readonly #subscriber: RedisConnection;
  readonly #logger: Logger;
  #raw: Record<string, string> = {};
  #declared: WorkflowRegistry = createWorkflowRegistry([]);
  #queues = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  readonly #listeners = new Set<() => void>();

  constructor(redis: RedisConnection, logger: Logger) {
    this.#redis = redis;
    this.#logger = logger;
    this.#subscriber = duplicateConnection(redis, { connectionName: 'taskdock-remote-workflows' });
    this.#subscriber.on('error', () => {});
  }

  async start(): Promise<void> {
    await this.#subscriber.subscribe(REMOTE_CHANGED_CHANNEL);
    this.#subscriber.on('message', () => void this.#reloadLogged());
    await this.reload();
    this.#timer = setInterval(() => void this.#reloadLogged(), RELOAD_EVERY_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#subscriber.quit().catch(() => {});
  }

  /** Called after each change of the queues (a new declaration): the lease workers follow. */
  onChange(listener: () => void): void {
    this.#listeners.add(listener);
  }

  /** Declared workflows (tasks can be created for them). */
  list(): readonly Workflow[] {
    return this.#declared.list();
  }

  get(name: string): Workflow | undefined {
    return this.#declared.get(name);
  }

  /** Every queue ever declared remote: leases reach their tasks even after a DELETE. */
  queues(): readonly string[] {
    return [...this.#queues];
  }

  /** The registry with the remote workflows after `local`'s (whose names they never take). */
  withLocal(local: WorkflowRegistry): WorkflowRegistry {
    const registry: WorkflowRegistry = Object.create(local);
    registry.get = (name) => local.get(name) ?? this.#declared.get(name);
    registry.list = () => [...local.list(), ...this.#declared.list()];
    registry.checkParams = (name, params) =>
      local.get(name) ? local.checkParams(name, params) : this.#declared.checkParams(name, params);
    registry.sourceOf = (name) =>
      local.sourceOf(name) ?? (this.#declared.get(name) ? { kind: 'remote' } : undefined);
    return registry;
  }

  async declare(
    name: string,
    input: DeclareWorkflow,
    local: WorkflowRegistry,
  ): Promise<RemoteWorkflow> {
    if (local.get(name)) {
      throw new ConflictError(
        'NAME_TAKEN',
        `"${name}" is a workflow of this Taskdock (built-in or file): a remote one cannot take its name`,
      );
    }
    const declared: RemoteWorkflow = {
      name,
      description: input.description ?? '',
      paramsSchema: input.paramsSchema,
      remote: true,
      declaredAt: new Date().toISOString(),
    };
    try {
      createWorkflowRegistry([toWorkflow(declared)]);
    } catch (err) {
      throw new InvalidInputError('INVALID_SCHEMA', 'paramsSchema is not a valid JSON Schema', [
        { path: '/paramsSchema', message: (err as Error).message },
      ]);
    }
    await this.#redis
      .multi()
      .hset(REMOTE_WORKFLOWS_KEY, name, JSON.stringify(declared))
      .sadd(REMOTE_QUEUES_KEY, name)
      .publish(REMOTE_CHANGED_CHANNEL, name)
      .exec();
    await this.reload();
    return declared;
  }

  async remove(name: string): Promise<void> {
    const removed = await this.#redis.hdel(REMOTE_WORKFLOWS_KEY, name);
    if (removed === 0) throw new NotFoundError(`No remote workflow named "${name}"`);
    await this.#redis.publish(REMOTE_CHANGED_CHANNEL, name);
    await this.reload();
  }

  /** Re-reads the declarations; recompiles schemas only when something changed. */
  async reload(): Promise<void> {
    const [raw, queues] = await Promise.all([
      this.#redis.hgetall(REMOTE_WORKFLOWS_KEY),
      this.#redis.smembers(REMOTE_QUEUES_KEY),
    ]);
    const queuesChanged = queues.some((q) => !this.#queues.has(q));
    this.#queues = new Set(queues);
    if (JSON.stringify(raw) !== JSON.stringify(this.#raw)) {
      const workflows = Object.values(raw).flatMap((text) => {
        const workflow = toWorkflow(JSON.parse(text) as RemoteWorkflow);
        try {
          createWorkflowRegistry([workflow]);
          return [workflow];
        } catch (err) {
          this.#logger.warn({ err, workflow: workflow.name }, 'remote workflow skipped');
          return [];
        }
      });
      this.#declared = createWorkflowRegistry(workflows);
      this.#raw = raw;
    }
    if (queuesChanged) for (const listener of this.#listeners) listener();
  }

  async #reloadLogged(): Promise<void> {
    await this.reload().catch((err) =>
      this.#logger.warn({ err: (err as Error).message }, 'reloading remote workflows failed'),
    );
  }
}

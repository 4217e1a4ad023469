import { type Static, Type } from '@sinclair/typebox';

/**
 * The desktop's "Remote workers" setting (docs/remote-workers.md "The desktop setting"), kept in
 * `<dataDir>/remote-workers.json`. The supervisor reads it each time it starts the backend;
 * TASKDOCK_HOST in the environment wins over it.
 */
export const RemoteServingSetting = Type.Object(
  {
    /** Serve the API on every interface (0.0.0.0) so other machines' workers reach it. */
    enabled: Type.Boolean(),
    /** How other machines reach this one; default `<scheme>://<this host name>:<port>`. */
    publicUrl: Type.Optional(
      Type.String({ minLength: 1, maxLength: 2048, pattern: '^https?://[^\\s/]+/?$' }),
    ),
    /** Without TLS files: accept that tokens cross the network in clear (TASKDOCK_ALLOW_PLAINTEXT). */
    allowPlaintext: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type RemoteServingSetting = Static<typeof RemoteServingSetting>;

export const REMOTE_SERVING_DEFAULT: RemoteServingSetting = {
  enabled: false,
  allowPlaintext: false,
};

/** GET /api/remote-serving: what runs now and what is saved. */
export const RemoteServingStatus = Type.Object({
  /** Whether a supervisor runs this backend (only then can the setting be applied). */
  supervised: Type.Boolean(),
  /** Remote workers are served here: they need the Redis store (memory mode has no leases). */
  available: Type.Boolean(),
  /** Who decided the bind now: TASKDOCK_HOST in the environment, the setting, or neither. */
  source: Type.Union([Type.Literal('env'), Type.Literal('setting'), Type.Literal('default')]),
  /** The API is open to other machines now. */
  active: Type.Boolean(),
  /** The address remote workers use (TASKDOCK_URL of the examples); null while loopback only. */
  url: Type.Union([Type.String(), Type.Null()]),
  /** TLS files are configured (TASKDOCK_TLS_CERT/KEY): the API serves https. */
  tls: Type.Boolean(),
  /** Open beyond loopback without TLS, by the explicit opt-in. */
  plaintext: Type.Boolean(),
  /** The saved setting; it differs from what runs until the backend restarts with it. */
  setting: RemoteServingSetting,
  /** The answer of a PUT: the supervisor restarts the backend with the new setting now. */
  restarting: Type.Optional(Type.Boolean()),
});
export type RemoteServingStatus = Static<typeof RemoteServingStatus>;

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorBody, RemoteServingSetting, RemoteServingStatus } from '@taskdock/shared/contract';
import { UnsupportedError } from '../../engine/errors.ts';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 409: ErrorBody, 501: ErrorBody };

/** The desktop's "Remote workers" setting (main token or session; docs/remote-workers.md). */
const remoteServingRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const control = () => {
    const { remoteServing } = app.deps;
    if (!remoteServing) throw new UnsupportedError('This backend has no remote workers setting');
    return remoteServing;
  };

  app.get(
    '/',
    {
      schema: {
        summary: 'Whether remote workers can reach this API, at which URL, and the saved setting',
        response: { 200: RemoteServingStatus, ...errors },
      },
    },
    async () => control().status(),
  );

  app.put(
    '/',
    {
      schema: {
        summary: 'Save the setting; the supervisor restarts the backend bound accordingly',
        body: RemoteServingSetting,
        response: { 200: RemoteServingStatus, ...errors },
      },
    },
    async (request) => control().save(request.body),
  );
};

export default remoteServingRoutes;

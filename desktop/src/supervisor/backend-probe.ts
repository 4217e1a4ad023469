import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';

/**
 * GET `url` with the API token, for the supervisor's health gate. Over https (TASKDOCK_TLS_CERT)
 * the backend's own certificate is trusted beside the system roots, so a self-signed one works;
 * its names are not checked: the probe dials its own child on loopback, which no certificate
 * names.
 */
export function probeBackend(
  url: string,
  token: string,
  signal: AbortSignal,
  certFile?: string,
): Promise<{ status: number; body: string }> {
  const tls = url.startsWith('https:');
  const options = {
    headers: { authorization: `Bearer ${token}` },
    signal,
    ...(tls && certFile
      ? {
          ca: [...rootCertificates, readFileSync(certFile, 'utf8')],
          checkServerIdentity: () => undefined,
        }
      : {}),
  };
  return new Promise((resolve, reject) => {
    const request = (tls ? https : http).get(url, options, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (body.length < 4096) body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

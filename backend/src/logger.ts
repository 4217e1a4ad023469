import { pino } from 'pino';

/** JSON lines on stdout: the supervisor parses them per service (level, msg, time). */
export function createLogger(service: string, level: string) {
  return pino({ level, base: { service } });
}

import { pino, type Logger } from 'pino';

import { getEnv } from '~/config/env.server';
import { singleton } from '~/utils/singleton.server';

/**
 * Returns the process logger: JSON lines on stdout, silent under tests unless LOG_LEVEL is set.
 *
 * Log ids (patient, session, request, challenge), never names, emails, dates of birth,
 * message text, codes or tokens. The redact list is a second line of defence, not a licence.
 */
export function getLogger(): Logger {
  return singleton('logger', () =>
    pino({
      level: getEnv().logLevel,
      base: { service: 'patient-portal' },
      redact: {
        paths: [
          'email',
          'code',
          'token',
          'accessToken',
          'req.headers.cookie',
          'req.headers.authorization',
          '*.email',
          '*.code',
          '*.token',
        ],
        censor: '[redacted]',
      },
    }),
  );
}

import { resetSingleton } from '../../app/utils/singleton.server';
import { TEST_CREDENTIALS, type RunningSandbox } from '../../sandbox/test-support';

/**
 * Points this test process's FHIR client at the sandbox, with the sandbox's test credentials,
 * and drops the environment, token, circuit breaker and any other named singletons read before.
 */
export function useSandboxFhir(sandbox: RunningSandbox, singletons: string[] = []): void {
  process.env.CANVAS_FHIR_BASE_URL = `${sandbox.sandboxUrl}/fhir`;
  process.env.CANVAS_TOKEN_URL = `${sandbox.sandboxUrl}/fhir/auth/token/`;
  process.env.CANVAS_CLIENT_ID = TEST_CREDENTIALS.fhirClientId;
  process.env.CANVAS_CLIENT_SECRET = TEST_CREDENTIALS.fhirClientSecret;
  for (const name of ['env', 'fhir-token-cache', 'circuit-breaker:fhir', ...singletons]) {
    resetSingleton(name);
  }
}

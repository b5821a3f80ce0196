import { getLogger } from '~/utils/logger.server';

/** One dashboard panel's data, or the reason it could not be loaded. */
export type Panel<T> = { status: 'ready'; data: T } | { status: 'unavailable'; message: string };

/**
 * Runs one panel's loader and turns a failure into an `unavailable` panel with a message the
 * patient can read, so one failing source never breaks the page. The error is logged with the
 * panel name and patient id only.
 */
export async function loadPanel<T>(
  panel: string,
  patientId: string,
  load: () => Promise<T>,
  unavailableMessage: string,
): Promise<Panel<T>> {
  try {
    return { status: 'ready', data: await load() };
  } catch (error) {
    getLogger().error(
      { panel, patientId, err: { name: (error as Error).name, message: (error as Error).message } },
      'dashboard panel failed',
    );
    return { status: 'unavailable', message: unavailableMessage };
  }
}

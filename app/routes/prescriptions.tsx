import { data, Link } from 'react-router';

import { requirePatient } from '~/auth/session.server';
import { UpstreamError } from '~/clients/upstream-error.server';
import { listPrescriptions, type Prescription } from '~/prescriptions/prescriptions.server';
import {
  parseStatusFilter,
  PRESCRIPTION_STATUS_FILTERS,
  type PrescriptionStatusFilter,
} from '~/prescriptions/status-filter';
import { describeCode } from '~/prescriptions/medication-name';
import { statusLabel } from '~/prescriptions/prescription-status';
import { formatFhirDate } from '~/utils/dates';
import { getLogger } from '~/utils/logger.server';

import type { Route } from './+types/prescriptions';

export const meta: Route.MetaFunction = () => [{ title: 'Prescriptions | Patient portal' }];

/**
 * Prescriptions per page. A patient with a long history (the FHIR examples have 40) would
 * otherwise get a first response of more than 14 KB, which a slow phone cannot receive in one
 * round trip. The JSON API returns the whole list.
 */
export const PRESCRIPTIONS_PER_PAGE = 20;

export async function loader({ request }: Route.LoaderArgs) {
  const session = await requirePatient(request);
  const searchParams = new URL(request.url).searchParams;
  const filter = parseStatusFilter(searchParams.get('status'));
  const pageNumber = parsePageNumber(searchParams.get('page'));
  if (filter === undefined || pageNumber === undefined) {
    throw data(null, { status: 404 });
  }

  try {
    const list = await listPrescriptions(session, filter);
    const pageCount = Math.max(1, Math.ceil(list.prescriptions.length / PRESCRIPTIONS_PER_PAGE));
    if (pageNumber > pageCount) throw data(null, { status: 404 });
    const first = (pageNumber - 1) * PRESCRIPTIONS_PER_PAGE;
    return {
      filter,
      list: {
        ...list,
        total: list.prescriptions.length,
        prescriptions: list.prescriptions.slice(first, first + PRESCRIPTIONS_PER_PAGE),
      },
      page: { number: pageNumber, count: pageCount, first },
    };
  } catch (error) {
    if (!(error instanceof UpstreamError)) throw error;
    getLogger().error(
      { patientId: session.patientId, upstream: error.upstream, failure: error.failure },
      'prescriptions unavailable',
    );
    // 503 like the API, so caches and monitors see the failure; the page still explains it.
    return data({ filter, list: null, page: null }, { status: 503 });
  }
}

/** Reads `?page=`: absent means 1; undefined for anything but a whole number from 1. */
function parsePageNumber(value: string | null): number | undefined {
  if (value === null || value === '') return 1;
  if (!/^[1-9]\d{0,3}$/.test(value)) return undefined;
  return Number(value);
}

export default function Prescriptions({ loaderData }: Route.ComponentProps) {
  const { filter, list, page } = loaderData;

  return (
    <>
      <h1>Prescriptions</h1>
      {list === null ? (
        <p role="status" className="notice">
          Your prescriptions are unavailable right now. Please try again in a few minutes.
        </p>
      ) : (
        <>
          <StatusFilter current={filter} counts={list.statusCounts} />
          {list.moreExist ? (
            <p className="notice">
              Only your newest {list.listMax} prescription records are shown. Your care team can
              tell you about older ones.
            </p>
          ) : null}
          {list.prescriptions.length === 0 ? (
            <p>
              {filter === 'all'
                ? 'You have no prescriptions yet.'
                : `You have no prescriptions with the status ${statusLabel(filter).toLowerCase()}.`}
            </p>
          ) : (
            <>
              {page && page.count > 1 ? (
                <p>
                  Showing {page.first + 1} to {page.first + list.prescriptions.length} of{' '}
                  {list.total} prescriptions.
                </p>
              ) : null}
              <ul className="plain-list prescription-list">
                {list.prescriptions.map((prescription) => (
                  <li key={prescription.id}>
                    <PrescriptionCard prescription={prescription} />
                  </li>
                ))}
              </ul>
              {page && page.count > 1 ? (
                <Pager filter={filter} number={page.number} count={page.count} />
              ) : null}
            </>
          )}
        </>
      )}
    </>
  );
}

function StatusFilter({
  current,
  counts,
}: {
  current: PrescriptionStatusFilter;
  counts: Record<string, number>;
}) {
  const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
  return (
    <nav aria-label="Filter by status" className="filter-links">
      <ul>
        {PRESCRIPTION_STATUS_FILTERS.map((filter) => {
          const count = filter === 'all' ? total : (counts[filter] ?? 0);
          const label = filter === 'all' ? 'All' : statusLabel(filter);
          return (
            <li key={filter}>
              <Link
                to={filter === 'all' ? '/prescriptions' : `/prescriptions?status=${filter}`}
                aria-current={filter === current ? 'page' : undefined}
              >
                {label} ({count})
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

function Pager({
  filter,
  number,
  count,
}: {
  filter: PrescriptionStatusFilter;
  number: number;
  count: number;
}) {
  const href = (target: number) => {
    const params = new URLSearchParams();
    if (filter !== 'all') params.set('status', filter);
    if (target > 1) params.set('page', String(target));
    const query = params.toString();
    return query ? `/prescriptions?${query}` : '/prescriptions';
  };
  return (
    <nav aria-label="Pages of prescriptions" className="pager">
      {number > 1 ? <Link to={href(number - 1)}>Previous page</Link> : null}
      {number < count ? <Link to={href(number + 1)}>Next page</Link> : null}
    </nav>
  );
}

function PrescriptionCard({ prescription }: { prescription: Prescription }) {
  const { medication, prescriber, refills } = prescription;
  const headingId = `prescription-${prescription.id}`;

  return (
    <article aria-labelledby={headingId}>
      <h2 id={headingId} className="medication-name">
        {medication.text}
      </h2>
      <p>
        <span className={`status status-${prescription.status.code}`}>
          {prescription.status.label}
        </span>
        {medication.code ? (
          <span className="muted"> · {capitalize(describeCode(medication.code))}</span>
        ) : null}
      </p>
      {prescription.dosage.map((line, index) => (
        // Dosage lines may repeat word for word, so their position is the key.
        <p key={index}>{line}</p>
      ))}
      <dl className="details">
        <dt>Prescriber</dt>
        <dd>
          {prescriber.name}
          {prescriber.npi ? ` (NPI ${prescriber.npi})` : ''}
        </dd>
        <dt>Written</dt>
        <dd>
          {prescription.dateWritten ? formatFhirDate(prescription.dateWritten) : 'Date unavailable'}
        </dd>
        {refills ? (
          <>
            {refills.allowed !== null ? (
              <>
                <dt>Refills allowed</dt>
                <dd>{refills.allowed}</dd>
              </>
            ) : null}
            {refills.quantity !== null ? (
              <>
                <dt>Quantity</dt>
                <dd>{refills.quantity}</dd>
              </>
            ) : null}
            {refills.supplyDays !== null ? (
              <>
                <dt>Supply</dt>
                <dd>{refills.supplyDays} days</dd>
              </>
            ) : null}
          </>
        ) : null}
      </dl>
      {prescription.refillHistory.length > 0 ? (
        <details>
          <summary>
            Refill history ({prescription.refillHistory.length}{' '}
            {prescription.refillHistory.length === 1 ? 'refill' : 'refills'})
          </summary>
          <ul>
            {prescription.refillHistory.map((refill) => (
              <li key={refill.id}>
                {refill.dateWritten ? formatFhirDate(refill.dateWritten) : 'Date unavailable'}:{' '}
                {refill.status.label}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </article>
  );
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

interface ErrorSummaryProps {
  /** Message about the form as a whole. */
  message?: string;
  /** Messages per field name; each links to the input with that id. */
  fields?: Record<string, string>;
}

/**
 * Renders the errors of a submitted form at its top as an alert, so screen readers announce
 * them after a JavaScript submission and after a full page load, with links to the fields.
 */
export function ErrorSummary({ message, fields }: ErrorSummaryProps) {
  const fieldEntries = Object.entries(fields ?? {});
  if (!message && fieldEntries.length === 0) return null;

  return (
    <div role="alert" className="error-summary">
      {fieldEntries.length > 0 ? (
        <ul>
          {fieldEntries.map(([name, fieldMessage]) => (
            <li key={name}>
              <a href={`#${name}`}>{fieldMessage}</a>
            </li>
          ))}
        </ul>
      ) : (
        <p>{message}</p>
      )}
    </div>
  );
}

/** Returns the page title, prefixed with "Error: " after a failed submission. */
export function pageTitle(title: string, hasErrors: boolean): string {
  return `${hasErrors ? 'Error: ' : ''}${title} | Patient portal`;
}

import type { InputHTMLAttributes } from 'react';

interface TextFieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'name'> {
  name: string;
  label: string;
  /** Message shown under the field and announced with it; marks the input invalid. */
  error?: string;
  /** Help shown under the field while there is no error. */
  hint?: string;
}

/** Renders a labelled input and ties its error or hint to it with `aria-describedby`. */
export function TextField({ name, label, error, hint, ...inputProps }: TextFieldProps) {
  let messageId: string | undefined;
  if (error) messageId = `${name}-error`;
  else if (hint) messageId = `${name}-hint`;

  return (
    <div className="field">
      <label htmlFor={name}>{label}</label>
      <input
        id={name}
        name={name}
        aria-invalid={error ? true : undefined}
        aria-describedby={messageId}
        {...inputProps}
      />
      {error ? (
        <p id={messageId} className="field-error">
          {error}
        </p>
      ) : hint ? (
        <p id={messageId} className="hint">
          {hint}
        </p>
      ) : null}
    </div>
  );
}

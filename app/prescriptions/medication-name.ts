import type {
  CodeableConcept,
  Medication,
  MedicationIngredient,
  Quantity,
  Ratio,
} from '@medplum/fhirtypes';

export interface MedicationCode {
  system?: string;
  code: string;
  display?: string;
}

export interface MedicationName {
  /** Never empty. */
  text: string;
  /** The RxNorm coding when present, else the first coding with a code. */
  code?: MedicationCode;
  /** True when no name could be found and `text` is the placeholder. */
  unavailable: boolean;
}

export const MEDICATION_NAME_UNAVAILABLE = 'Medication name unavailable';
export const RXNORM_SYSTEM = 'http://www.nlm.nih.gov/research/umls/rxnorm';

/** Short names of the code systems a patient may recognise, keyed by system URI. */
const CODE_SYSTEM_NAMES: Record<string, string> = {
  [RXNORM_SYSTEM]: 'RxNorm',
  'http://snomed.info/sct': 'SNOMED CT',
  'http://hl7.org/fhir/sid/ndc': 'NDC',
  'http://hl7.org/fhir/sid/cvx': 'CVX',
  'http://www.whocc.no/atc': 'ATC',
};

/**
 * SNOMED CT fully specified names end in a semantic tag such as "(product)" or
 * "(qualifier value)". The tag names the concept's hierarchy and means nothing to a patient.
 */
const SNOMED_SEMANTIC_TAG =
  /\s*\((?:product|medicinal product|medicinal product form|clinical drug|real clinical drug|substance|qualifier value|dose form|basic dose form|unit of presentation|finding|disorder|situation|event|procedure|regime\/therapy|body structure|morphologic abnormality|observable entity|physical object)\)$/i;

/** UCUM time units (as used by Timing.repeat.periodUnit) and their English words. */
const TIME_UNIT_WORDS: Record<string, { singular: string; plural: string }> = {
  s: { singular: 'second', plural: 'seconds' },
  min: { singular: 'minute', plural: 'minutes' },
  h: { singular: 'hour', plural: 'hours' },
  d: { singular: 'day', plural: 'days' },
  wk: { singular: 'week', plural: 'weeks' },
  mo: { singular: 'month', plural: 'months' },
  a: { singular: 'year', plural: 'years' },
};

/**
 * Units that count whole items, keyed by lower-cased `Quantity.unit` or `code`. Keys cover
 * UCUM annotations (`{tablet}`), HL7 v3 orderableDrugForm codes (`TAB`, `OPDROP`) and the
 * plain words.
 */
const COUNT_UNITS: Record<string, { singular: string; plural: string }> = {};
for (const [keys, singular, plural] of [
  [['tab', 'tabs', 'tablet', 'tbl'], 'tablet', 'tablets'],
  [['cap', 'caps', 'capsule'], 'capsule', 'capsules'],
  [['drop', 'drp', '[drp]', 'gtt', 'opdrop', 'otdrop', 'nasdrop'], 'drop', 'drops'],
  [['patch', 'tpatch'], 'patch', 'patches'],
  [['puff'], 'puff', 'puffs'],
  [['spray'], 'spray', 'sprays'],
  [['actuat', 'actuation'], 'actuation', 'actuations'],
  [['supp', 'suppository', 'recsupp'], 'suppository', 'suppositories'],
  [['vagsupp'], 'vaginal suppository', 'vaginal suppositories'],
  [['vagtab'], 'vaginal tablet', 'vaginal tablets'],
  [['application', 'appl'], 'application', 'applications'],
  [['vial'], 'vial', 'vials'],
  [['ampule', 'amp'], 'ampule', 'ampules'],
  [['u', '[u]', 'unit', 'units'], 'unit', 'units'],
  // UCUM "ea" (each) means one of whatever the product comes in, so "dose" is the plain word.
  [['ea', 'each'], 'dose', 'doses'],
] as const) {
  for (const key of keys) COUNT_UNITS[key] = { singular, plural };
}

/** Spellings that patients and pharmacists use for UCUM unit atoms, keyed by lower case. */
const UNIT_ATOM_SPELLINGS: Record<string, string> = {
  ml: 'mL',
  l: 'L',
  ug: 'mcg',
  mcg: 'mcg',
  meq: 'mEq',
  '[iu]': 'IU',
  iu: 'IU',
  hr: 'h',
};

const COMPARATOR_WORDS: Record<NonNullable<Quantity['comparator']>, string> = {
  '<': 'less than',
  '<=': 'up to',
  '>=': 'at least',
  '>': 'more than',
};

// en-US grouping writes "1,000 mg", which is harder to misread as 100 or 10,000 than "1000 mg".
// Ten significant digits hide binary float noise such as 0.30000000000000004.
const NUMBER_FORMAT = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 10 });

/**
 * Returns `table[key]` only when `key` is the table's own property, so FHIR data such as
 * "constructor" never reaches an Object.prototype member.
 */
export function lookupOwn<T>(
  table: Readonly<Record<string, T>>,
  key: string | undefined,
): T | undefined {
  return key !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
}

/** Trims `value` and returns undefined for a missing or blank string. */
function nonBlank(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/**
 * Trims a `text` or `display` and drops a trailing SNOMED CT semantic tag, which systems often
 * copy into `text` as well. Returns undefined for a missing or blank value.
 */
function cleanLabel(value: string | undefined): string | undefined {
  return nonBlank(nonBlank(value)?.replace(SNOMED_SEMANTIC_TAG, ''));
}

/** Returns "code 123", or "RxNorm code 123" when the system is one patients may know. */
export function describeCode(code: MedicationCode): string {
  const systemName = lookupOwn(CODE_SYSTEM_NAMES, code.system);
  return systemName ? `${systemName} code ${code.code}` : `code ${code.code}`;
}

/** Picks the RxNorm coding that has a code, else the first coding that has a code. */
function pickMedicationCode(concept: CodeableConcept | undefined): MedicationCode | undefined {
  const codings = (concept?.coding ?? []).filter((coding) => nonBlank(coding.code));
  const coding = codings.find((candidate) => candidate.system === RXNORM_SYSTEM) ?? codings[0];
  const code = nonBlank(coding?.code);
  if (!coding || !code) return undefined;

  const picked: MedicationCode = { code };
  const system = nonBlank(coding.system);
  const display = nonBlank(coding.display);
  if (system) picked.system = system;
  if (display) picked.display = display;
  return picked;
}

/** Returns a CodeableConcept's `text`, else its first coding display, else undefined. */
export function textFromCodeableConcept(concept: CodeableConcept | undefined): string | undefined {
  return (
    cleanLabel(concept?.text) ??
    concept?.coding?.map((coding) => cleanLabel(coding.display)).find(Boolean)
  );
}

/**
 * Returns the text a patient should see for a CodeableConcept: `text`, else the first coding
 * display, else the first code as it is, else undefined.
 */
export function labelFromCodeableConcept(concept: CodeableConcept | undefined): string | undefined {
  return (
    textFromCodeableConcept(concept) ??
    concept?.coding?.map((coding) => nonBlank(coding.code)).find(Boolean)
  );
}

/**
 * Lower-cases each word written as a capital followed by small letters, so "Rib Pain" reads
 * "rib pain" inside a sentence. Acronyms (HFA, HIV) and mixed-case words stay as they are.
 */
export function lowerCaseWords(text: string): string {
  return text.replace(/\b[A-Z][a-z]+\b/g, (word) => word.toLowerCase());
}

/** Formats a number without float noise and with thousands separators ("1,000", "0.05"). */
export function formatNumber(value: number): string {
  return NUMBER_FORMAT.format(value);
}

/** Returns the English words for a UCUM time unit (`h` → hour/hours), or undefined. */
export function timeUnitWords(
  unit: string | undefined,
): { singular: string; plural: string } | undefined {
  return lookupOwn(TIME_UNIT_WORDS, unit);
}

/**
 * Returns a quantity's unit in the singular as patients read it ("tablet", "mL"), or undefined
 * when it has none.
 */
export function unitOf(quantity: Quantity | undefined): string | undefined {
  return quantity ? spellUnit(quantity, 1) : undefined;
}

/** Returns `unit`, else `code`, without the braces of a whole-unit UCUM annotation ({tablet}). */
function rawUnitOf(quantity: Quantity): string | undefined {
  const raw = nonBlank(quantity.unit) ?? nonBlank(quantity.code);
  return raw && /^\{[^{}]+\}$/.test(raw) ? nonBlank(raw.slice(1, -1)) : raw;
}

/** Returns a unit as patients read it: "tablet", "mL", "mcg/kg/min". */
function spellUnit(quantity: Quantity, value: number | undefined): string | undefined {
  const unit = rawUnitOf(quantity);
  if (!unit) return undefined;

  const countUnit = lookupOwn(COUNT_UNITS, unit.toLowerCase());
  if (countUnit) return value !== undefined && value > 1 ? countUnit.plural : countUnit.singular;

  const timeUnit = lookupOwn(TIME_UNIT_WORDS, unit);
  if (timeUnit) return value === 1 ? timeUnit.singular : timeUnit.plural;

  return unit
    .split('/')
    .map((atom) => lookupOwn(UNIT_ATOM_SPELLINGS, atom.toLowerCase()) ?? atom)
    .join('/');
}

/** Returns true when the quantity's unit counts whole items or is a UCUM time unit. */
function isCountOrTimeUnit(quantity: Quantity): boolean {
  const unit = rawUnitOf(quantity);
  return (
    lookupOwn(COUNT_UNITS, unit?.toLowerCase()) !== undefined ||
    lookupOwn(TIME_UNIT_WORDS, unit) !== undefined
  );
}

/** Returns the quantity's value when it is a finite number. */
function finiteValue(quantity: Quantity | undefined): number | undefined {
  const value = quantity?.value;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * Formats a Quantity as "2 tablets", "2.5 mL" or "up to 4 mg". Returns undefined when it has
 * no finite value, so a unit is never shown without a number.
 */
export function formatQuantity(quantity: Quantity | undefined): string | undefined {
  const value = finiteValue(quantity);
  if (!quantity || value === undefined) return undefined;

  const comparator = lookupOwn(COMPARATOR_WORDS, quantity.comparator);
  const unit = spellUnit(quantity, value);
  return [comparator, formatNumber(value), unit].filter(Boolean).join(' ');
}

/**
 * Formats a Ratio as "5 mg/mL", "0.9 g/100 mL", "5%" (same unit over 100), "50 mg per tablet"
 * or "100 mL per hour". A denominator of 1 is left out. Returns undefined without a numerator.
 */
export function formatRatio(ratio: Ratio | undefined): string | undefined {
  const numerator = formatQuantity(ratio?.numerator);
  if (!ratio?.numerator || !numerator) return undefined;

  const denominatorValue = finiteValue(ratio.denominator);
  if (!ratio.denominator || denominatorValue === undefined) return numerator;

  const numeratorUnit = spellUnit(ratio.numerator, undefined);
  const denominatorUnit = spellUnit(ratio.denominator, denominatorValue);
  const numeratorValue = finiteValue(ratio.numerator);
  if (
    denominatorValue === 100 &&
    numeratorUnit !== undefined &&
    numeratorUnit === denominatorUnit &&
    numeratorValue !== undefined &&
    !ratio.numerator.comparator
  ) {
    return `${formatNumber(numeratorValue)}%`;
  }

  const denominator =
    denominatorValue === 1
      ? spellUnit(ratio.denominator, 1)
      : formatQuantity({ ...ratio.denominator, comparator: undefined });
  if (!denominator) return numerator;

  const separator = isCountOrTimeUnit(ratio.denominator) ? ' per ' : '/';
  return `${numerator}${separator}${denominator}`;
}

function unavailableName(code: MedicationCode | undefined): MedicationName {
  if (!code) return { text: MEDICATION_NAME_UNAVAILABLE, unavailable: true };
  return {
    text: `${MEDICATION_NAME_UNAVAILABLE} (${describeCode(code)})`,
    code,
    unavailable: true,
  };
}

/**
 * Names a medication from a CodeableConcept: `text`, else the RxNorm coding's display, else
 * the first coding display. Without any of these the placeholder names the code, if any.
 */
export function nameFromCodeableConcept(concept: CodeableConcept | undefined): MedicationName {
  const code = pickMedicationCode(concept);
  const codings = concept?.coding ?? [];
  const rxNormDisplay = cleanLabel(
    codings.find((coding) => coding.system === RXNORM_SYSTEM)?.display,
  );
  const text =
    cleanLabel(concept?.text) ??
    rxNormDisplay ??
    codings.map((coding) => cleanLabel(coding.display)).find(Boolean);

  if (!text) return unavailableName(code);
  return code ? { text, code, unavailable: false } : { text, unavailable: false };
}

/** Names a reference's `display`, or returns the placeholder when it is missing or blank. */
export function nameFromDisplay(display: string | undefined): MedicationName {
  const text = nonBlank(display);
  return text ? { text, unavailable: false } : unavailableName(undefined);
}

/** An ingredient's name, or its code when it has no name (`named` is then false). */
interface IngredientLabel {
  text: string;
  named: boolean;
}

/**
 * Labels an ingredient from `itemCodeableConcept`, `itemReference.display` or the code of a
 * contained Substance or Medication that `itemReference` points to (`#id`).
 */
function labelIngredient(
  ingredient: MedicationIngredient,
  medication: Medication,
): IngredientLabel | undefined {
  if (ingredient.itemCodeableConcept) {
    const name = nameFromCodeableConcept(ingredient.itemCodeableConcept);
    if (!name.unavailable) return { text: name.text, named: true };
    return name.code ? { text: describeCode(name.code), named: false } : undefined;
  }

  const reference = ingredient.itemReference;
  const display = nonBlank(reference?.display);
  if (display) return { text: display, named: true };

  const localId = reference?.reference?.startsWith('#') ? reference.reference.slice(1) : undefined;
  const item = localId
    ? medication.contained?.find((resource) => resource.id === localId)
    : undefined;
  if (item?.resourceType !== 'Substance' && item?.resourceType !== 'Medication') return undefined;

  const name = nameFromCodeableConcept(item.code);
  if (!name.unavailable) return { text: name.text, named: true };
  return name.code ? { text: describeCode(name.code), named: false } : undefined;
}

/** Describes an ingredient with its strength, e.g. "Potassium Chloride 2 mEq/mL". */
function describeIngredient(label: IngredientLabel, ingredient: MedicationIngredient): string {
  const strength = formatRatio(ingredient.strength);
  return strength ? `${label.text} ${strength}` : label.text;
}

/**
 * Names a Medication from its `code`. When the code gives no name, builds one from the
 * ingredients and their strengths plus the form, e.g. "Dopamine 400 mg/500 mL / Dextrose 5%
 * injection USP 5 g/100 mL — injection solution". Ingredients known only by a code are listed
 * by that code, but at least one must have a name.
 */
export function nameFromMedication(medication: Medication | undefined): MedicationName {
  const fromCode = nameFromCodeableConcept(medication?.code);
  if (!fromCode.unavailable || !medication) return fromCode;

  const ingredients: string[] = [];
  let hasNamedIngredient = false;
  for (const ingredient of medication.ingredient ?? []) {
    const label = labelIngredient(ingredient, medication);
    if (!label) continue;
    hasNamedIngredient ||= label.named;
    ingredients.push(describeIngredient(label, ingredient));
  }
  if (!hasNamedIngredient) return fromCode;

  const form = textFromCodeableConcept(medication.form);
  const ingredientText = ingredients.join(' / ');
  const text = form ? `${ingredientText} — ${lowerCaseWords(form)}` : ingredientText;
  return fromCode.code
    ? { text, code: fromCode.code, unavailable: false }
    : { text, unavailable: false };
}

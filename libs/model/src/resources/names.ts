// Name rules for resources and label keys/values, as Calico's validator applies them
// (libcalico-go/lib/validator/v3/validator.go: validateObjectMeta, validateObjectMetaLabels,
// validateObjectMetaAnnotations), which in turn use Kubernetes' apimachinery validation.
//
// Calico's docs describe IPPool/IPReservation/Node names as "alphanumeric string with optional
// `.`, `_`, or `-`", but the code refuses upper case and `_`: every v3 resource name goes
// through the DNS-1123 subdomain regex below. The code wins.

const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);

export const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;

const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const QUALIFIED_NAME = new RegExp(`^${QUALIFIED_NAME_FMT}$`);
const QUALIFIED_NAME_MAX_LENGTH = 63;

const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const LABEL_VALUE = new RegExp(`^${LABEL_VALUE_FMT}$`);
const LABEL_VALUE_MAX_LENGTH = 63;

/** Calico limits the summed length of annotation keys and values to 256 KiB. */
export const ANNOTATIONS_MAX_TOTAL_BYTES = 256 * 1024;

// Go's len() counts bytes; the limits are in bytes.
function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

export function isDns1123Subdomain(text: string): boolean {
  return byteLength(text) <= DNS1123_SUBDOMAIN_MAX_LENGTH && DNS1123_SUBDOMAIN.test(text);
}

/** Problems with a Calico resource name, in Calico's words (empty when the name is fine). */
export function resourceNameProblems(name: string): string[] {
  if (name === '') return ['name is required'];
  const problems: string[] = [];
  const length = byteLength(name);
  if (length > DNS1123_SUBDOMAIN_MAX_LENGTH) {
    problems.push(`name is too long by ${length - DNS1123_SUBDOMAIN_MAX_LENGTH} bytes`);
  }
  if (!DNS1123_SUBDOMAIN.test(name)) {
    problems.push(
      `name must consist of lower case alphanumeric characters, '-' or '.' (regex: ${DNS1123_SUBDOMAIN_FMT})`,
    );
  }
  return problems;
}

/**
 * Problems with a label key (Kubernetes IsQualifiedName): an optional DNS-1123 subdomain
 * prefix and "/", then a name of at most 63 characters.
 */
export function labelKeyProblems(key: string): string[] {
  const parts = key.split('/');
  let name: string;
  const problems: string[] = [];
  if (parts.length === 1) {
    name = key;
  } else if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    name = parts[1] ?? '';
    if (prefix.length === 0) problems.push('prefix part must be non-empty');
    else if (!isDns1123Subdomain(prefix)) {
      problems.push(
        `prefix part must be a lowercase RFC 1123 subdomain of at most ${DNS1123_SUBDOMAIN_MAX_LENGTH} characters (regex: ${DNS1123_SUBDOMAIN_FMT})`,
      );
    }
  } else {
    return [`a qualified name must have at most one "/" (an optional prefix, then a name; regex: ${QUALIFIED_NAME_FMT})`];
  }
  if (name.length === 0) problems.push('name part must be non-empty');
  else {
    if (name.length > QUALIFIED_NAME_MAX_LENGTH) {
      problems.push(`name part must be no more than ${QUALIFIED_NAME_MAX_LENGTH} characters`);
    }
    if (!QUALIFIED_NAME.test(name)) {
      problems.push(
        `name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (regex: ${QUALIFIED_NAME_FMT})`,
      );
    }
  }
  return problems;
}

/** Problems with a label value (Kubernetes IsValidLabelValue): empty, or ≤ 63 characters of a restricted set. */
export function labelValueProblems(value: string): string[] {
  const problems: string[] = [];
  if (value.length > LABEL_VALUE_MAX_LENGTH) {
    problems.push(`must be no more than ${LABEL_VALUE_MAX_LENGTH} characters`);
  }
  if (!LABEL_VALUE.test(value)) {
    problems.push(
      `a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (regex: ${LABEL_VALUE_FMT})`,
    );
  }
  return problems;
}

/** Annotation keys follow the label key rules, compared in lower case (as Calico does). */
export function annotationKeyProblems(key: string): string[] {
  return labelKeyProblems(key.toLowerCase());
}

export function annotationsTotalBytes(annotations: Readonly<Record<string, string>>): number {
  let total = 0;
  for (const [k, v] of Object.entries(annotations)) total += byteLength(k) + byteLength(v);
  return total;
}

import { SelectorNode } from './ast';

export type Labels = Readonly<Record<string, string>>;

/**
 * Whether a set of labels matches, with Calico's semantics (parser/ast.go). Note the
 * two negative operators: "k != 'v'" and "k not in {…}" match when k is absent, while
 * every positive operator requires k to be present.
 */
export function evaluateSelector(node: SelectorNode, labels: Labels): boolean {
  switch (node.kind) {
    case 'all':
    case 'global':
      // global() only widens a namespaceSelector's scope to non-namespaced resources;
      // as a predicate over labels it matches everything (Calico's GlobalNode).
      return true;
    case 'has':
      return labelValue(labels, node.key) !== undefined;
    case 'eq':
      return labelValue(labels, node.key) === node.value;
    case 'ne':
      return labelValue(labels, node.key) !== node.value;
    case 'contains':
      return labelValue(labels, node.key)?.includes(node.value) ?? false;
    case 'startsWith':
      return labelValue(labels, node.key)?.startsWith(node.value) ?? false;
    case 'endsWith':
      return labelValue(labels, node.key)?.endsWith(node.value) ?? false;
    case 'in': {
      const value = labelValue(labels, node.key);
      return value !== undefined && node.values.includes(value);
    }
    case 'notIn': {
      const value = labelValue(labels, node.key);
      return value === undefined || !node.values.includes(value);
    }
    case 'not':
      return !evaluateSelector(node.operand, labels);
    case 'and':
      return node.operands.every((operand) => evaluateSelector(operand, labels));
    case 'or':
      return node.operands.some((operand) => evaluateSelector(operand, labels));
  }
}

// Own properties only: a label set is plain data, and "has(constructor)" must not see
// Object.prototype.
function labelValue(labels: Labels, key: string): string | undefined {
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}

import { parseSelector, SelectorSyntaxError } from '../selector';
import { ProblemList } from './problem-list';

/**
 * Reports a selector that does not parse, naming the field and where parsing stopped
 * (Calico's validator only says the tag failed; the position is what a user needs).
 */
export function validateSelectorField(problems: ProblemList, text: string, field: string): void {
  try {
    parseSelector(text);
  } catch (err) {
    if (!(err instanceof SelectorSyntaxError)) throw err;
    const where = `position ${err.position}`;
    problems.add(field, err.message.includes(where) ? err.message : `${err.message} (at ${where})`);
  }
}

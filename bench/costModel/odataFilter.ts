/**
 * The OData `$filter` subset Table Storage accepts, as the SDK's `odata` tag writes it: comparisons of a property
 * with a literal (`eq ne gt ge lt le`), `and`, `or`, `not` and parentheses. Literals: strings `'…'` (a quote
 * doubled), `datetime'…'`, `true`/`false`, numbers, and Int64 numbers with an `L` suffix.
 *
 * Evaluation follows the service: a comparison with a property the entity does not have, or of another type than
 * the literal, is false (so `x ne 'a'` is false where `x` is missing, and `not (x eq 'a')` true).
 */

export type ComparisonOperator = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
export type Literal = string | number | bigint | boolean | Date;

export type FilterExpression =
  | { kind: 'and' | 'or'; left: FilterExpression; right: FilterExpression }
  | { kind: 'not'; operand: FilterExpression }
  | { kind: 'compare'; property: string; operator: ComparisonOperator; value: Literal };

/** A property's values over a run of rows: every value lies between `min` and `max`; `null`: no row has it. */
export type PropertyBounds = { min: Literal; max: Literal } | null;

/** What is known of a run of rows: true or false for every row of it, or unknown. */
export type Knowledge = true | false | undefined;

const operators = new Set<string>(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);

type Token =
  { type: 'open' | 'close' } | { type: 'word'; text: string } | { type: 'literal'; value: Literal };

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  const quoted = (start: number): [string, number] => {
    let text = '';
    let index = start;
    for (;;) {
      const quote = filter.indexOf("'", index);
      if (quote < 0) throw new FilterSyntaxError(filter, 'an unterminated string');
      text += filter.slice(index, quote);
      if (filter[quote + 1] === "'") {
        text += "'";
        index = quote + 2;
      } else return [text, quote + 1];
    }
  };
  while (at < filter.length) {
    const char = filter[at] as string;
    if (/\s/.test(char)) {
      at += 1;
    } else if (char === '(' || char === ')') {
      tokens.push({ type: char === '(' ? 'open' : 'close' });
      at += 1;
    } else if (char === "'") {
      const [text, next] = quoted(at + 1);
      tokens.push({ type: 'literal', value: text });
      at = next;
    } else if (filter.startsWith("datetime'", at)) {
      const [text, next] = quoted(at + "datetime'".length);
      const date = new Date(text);
      if (Number.isNaN(date.getTime())) throw new FilterSyntaxError(filter, `the date ${text}`);
      tokens.push({ type: 'literal', value: date });
      at = next;
    } else if (/[-0-9]/.test(char)) {
      const match = /^-?\d+(\.\d+)?([eE][-+]?\d+)?(L)?/.exec(filter.slice(at));
      if (!match) throw new FilterSyntaxError(filter, `the number at ${at}`);
      tokens.push({ type: 'literal', value: match[3] ? BigInt(match[0].slice(0, -1)) : Number(match[0]) });
      at += match[0].length;
    } else {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(filter.slice(at));
      if (!match) throw new FilterSyntaxError(filter, `the character ${char}`);
      const text = match[0];
      if (text === 'true' || text === 'false') tokens.push({ type: 'literal', value: text === 'true' });
      else tokens.push({ type: 'word', text });
      at += text.length;
    }
  }
  return tokens;
}

/** A filter this parser does not read: the service would answer 400 (or the filter is beyond this subset). */
export class FilterSyntaxError extends Error {
  constructor(filter: string, what: string) {
    super(`Cannot read ${what} in the filter ${JSON.stringify(filter)}.`);
    this.name = 'FilterSyntaxError';
  }
}

/** Parses a filter: `or` binds loosest, then `and`, then `not`. */
export function parseFilter(filter: string): FilterExpression {
  const tokens = tokenize(filter);
  let at = 0;
  const peekWord = (): string | undefined => {
    const token = tokens[at];
    return token?.type === 'word' ? token.text : undefined;
  };
  const orExpression = (): FilterExpression => {
    let left = andExpression();
    while (peekWord() === 'or') {
      at += 1;
      left = { kind: 'or', left, right: andExpression() };
    }
    return left;
  };
  const andExpression = (): FilterExpression => {
    let left = unary();
    while (peekWord() === 'and') {
      at += 1;
      left = { kind: 'and', left, right: unary() };
    }
    return left;
  };
  const unary = (): FilterExpression => {
    const token = tokens[at];
    if (token?.type === 'word' && token.text === 'not') {
      at += 1;
      return { kind: 'not', operand: unary() };
    }
    if (token?.type === 'open') {
      at += 1;
      const inner = orExpression();
      if (tokens[at]?.type !== 'close') throw new FilterSyntaxError(filter, 'a missing )');
      at += 1;
      return inner;
    }
    const [property, operator, value] = [tokens[at], tokens[at + 1], tokens[at + 2]];
    if (
      property?.type !== 'word' ||
      operator?.type !== 'word' ||
      !operators.has(operator.text) ||
      value?.type !== 'literal'
    )
      throw new FilterSyntaxError(filter, `the comparison at token ${at}`);
    at += 3;
    return {
      kind: 'compare',
      property: property.text,
      operator: operator.text as ComparisonOperator,
      value: value.value,
    };
  };
  const expression = orExpression();
  if (at !== tokens.length) throw new FilterSyntaxError(filter, `the token at ${at}`);
  return expression;
}

/** The order of a value and a literal of the same type; undefined when their types differ. */
export function compareValues(value: unknown, literal: Literal): number | undefined {
  if (typeof literal === 'string') {
    if (typeof value !== 'string') return undefined;
    return value < literal ? -1 : value > literal ? 1 : 0;
  }
  if (literal instanceof Date) {
    if (!(value instanceof Date)) return undefined;
    return Math.sign(value.getTime() - literal.getTime());
  }
  if (typeof literal === 'boolean') {
    if (typeof value !== 'boolean') return undefined;
    return Number(value) - Number(literal);
  }
  if (typeof value !== 'number' && typeof value !== 'bigint') return undefined;
  return value < literal ? -1 : value > literal ? 1 : 0;
}

function holds(operator: ComparisonOperator, order: number | undefined): boolean {
  if (order === undefined) return false;
  switch (operator) {
    case 'eq':
      return order === 0;
    case 'ne':
      return order !== 0;
    case 'gt':
      return order > 0;
    case 'ge':
      return order >= 0;
    case 'lt':
      return order < 0;
    case 'le':
      return order <= 0;
  }
}

/** Whether an entity matches; `valueOf` reads a property by its filter name (`PartitionKey`, `Timestamp`, …). */
export function matches(expression: FilterExpression, valueOf: (property: string) => unknown): boolean {
  switch (expression.kind) {
    case 'and':
      return matches(expression.left, valueOf) && matches(expression.right, valueOf);
    case 'or':
      return matches(expression.left, valueOf) || matches(expression.right, valueOf);
    case 'not':
      return !matches(expression.operand, valueOf);
    case 'compare':
      return holds(expression.operator, compareValues(valueOf(expression.property), expression.value));
  }
}

/**
 * What the filter is over every row of a run whose properties lie in `boundsOf(property)` (undefined: not known):
 * true or false for all of them, or undefined when it may differ from row to row.
 */
export function decideForRun(
  expression: FilterExpression,
  boundsOf: (property: string) => PropertyBounds | undefined,
): Knowledge {
  switch (expression.kind) {
    case 'and': {
      const left = decideForRun(expression.left, boundsOf);
      if (left === false) return false;
      const right = decideForRun(expression.right, boundsOf);
      return right === false ? false : left === true && right === true ? true : undefined;
    }
    case 'or': {
      const left = decideForRun(expression.left, boundsOf);
      if (left === true) return true;
      const right = decideForRun(expression.right, boundsOf);
      return right === true ? true : left === false && right === false ? false : undefined;
    }
    case 'not': {
      const operand = decideForRun(expression.operand, boundsOf);
      return operand === undefined ? undefined : !operand;
    }
    case 'compare': {
      const bounds = boundsOf(expression.property);
      if (bounds === undefined) return undefined;
      if (bounds === null) return false;
      const low = compareValues(bounds.min, expression.value);
      const high = compareValues(bounds.max, expression.value);
      if (low === undefined || high === undefined) return false;
      switch (expression.operator) {
        case 'eq':
          return low > 0 || high < 0 ? false : low === 0 && high === 0 ? true : undefined;
        case 'ne':
          return low === 0 && high === 0 ? false : low > 0 || high < 0 ? true : undefined;
        case 'gt':
          return low > 0 ? true : high <= 0 ? false : undefined;
        case 'ge':
          return low >= 0 ? true : high < 0 ? false : undefined;
        case 'lt':
          return high < 0 ? true : low >= 0 ? false : undefined;
        case 'le':
          return high <= 0 ? true : low > 0 ? false : undefined;
      }
    }
  }
}

/** A key's range, as the top-level `and` of a filter bounds it (comparisons under `or` or `not` bound nothing). */
export interface KeyRange {
  low?: { value: string; inclusive: boolean };
  high?: { value: string; inclusive: boolean };
}

export function keyRange(expression: FilterExpression, property: 'PartitionKey' | 'RowKey'): KeyRange {
  const range: KeyRange = {};
  const visit = (node: FilterExpression): void => {
    if (node.kind === 'and') {
      visit(node.left);
      visit(node.right);
      return;
    }
    if (node.kind !== 'compare' || node.property !== property || typeof node.value !== 'string') return;
    const { operator, value } = node;
    if (operator === 'eq' || operator === 'gt' || operator === 'ge') {
      const inclusive = operator !== 'gt';
      const { low } = range;
      if (!low || value > low.value || (value === low.value && !inclusive)) range.low = { value, inclusive };
    }
    if (operator === 'eq' || operator === 'lt' || operator === 'le') {
      const inclusive = operator !== 'lt';
      const { high } = range;
      if (!high || value < high.value || (value === high.value && !inclusive))
        range.high = { value, inclusive };
    }
  };
  visit(expression);
  return range;
}

import { ListQueryError } from '../errors/search.errors.js';

/** A comparison operator of a list query. */
export type QueryOperator = '=' | '!=' | '<' | '<=' | '>' | '>=';

/** One comparison of a list query, as written: `field op value`. */
export interface QueryCondition {
  field: string;
  op: QueryOperator;
  /** A quoted string, a number, or `true` / `false`. */
  value: string | number | boolean;
  /** Offset of the field in the query, for errors about it. */
  position: number;
}

type Token =
  | { kind: 'ident'; text: string; pos: number }
  | { kind: 'op'; text: QueryOperator; pos: number }
  | { kind: 'value'; value: string | number | boolean; pos: number }
  | { kind: 'end'; pos: number };

const OPERATORS: readonly QueryOperator[] = ['<=', '>=', '!=', '=', '<', '>'];

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  const fail = (pos: number, problem: string) => new ListQueryError(query, pos, problem);
  let i = 0;
  while (i < query.length) {
    const c = query[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const op = OPERATORS.find((o) => query.startsWith(o, i));
    if (op) {
      tokens.push({ kind: 'op', text: op, pos: i });
      i += op.length;
      continue;
    }
    if (c === "'" || c === '"') {
      // A quote inside is doubled, as in SQL: 'O''Brien'.
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= query.length) throw fail(i, `the string starting here has no closing ${c}`);
        if (query[j] === c) {
          if (query[j + 1] === c) {
            text += c;
            j += 2;
            continue;
          }
          break;
        }
        text += query[j++];
      }
      tokens.push({ kind: 'value', value: text, pos: i });
      i = j + 1;
      continue;
    }
    const number = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(query.slice(i));
    if (number) {
      tokens.push({ kind: 'value', value: Number(number[0]), pos: i });
      i += number[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(query.slice(i));
    if (ident) {
      const word = ident[0];
      if (word === 'true' || word === 'false') tokens.push({ kind: 'value', value: word === 'true', pos: i });
      else tokens.push({ kind: 'ident', text: word, pos: i });
      i += word.length;
      continue;
    }
    throw fail(i, `unexpected character '${c}'`);
  }
  tokens.push({ kind: 'end', pos: query.length });
  return tokens;
}

const isKeyword = (t: Token, word: string) => t.kind === 'ident' && t.text.toUpperCase() === word;

/**
 * Parses a list query: comparisons joined by `AND`, each `field op value` with op one of
 * `= != < <= > >=`, or `field BETWEEN low AND high` (both ends included, read as `>=` and `<=`).
 * Values are strings in single or double quotes (a quote doubled inside), numbers, or
 * true / false. Throws ListQueryError with the position of the problem. An empty query is no
 * condition at all.
 *
 * @example parseListQuery("customerId = 'c-1' AND amount BETWEEN 100 AND 500")
 */
export function parseListQuery(query: string): QueryCondition[] {
  const tokens = tokenize(query);
  const fail = (t: Token, problem: string) => new ListQueryError(query, t.pos, problem);
  const conditions: QueryCondition[] = [];
  let i = 0;
  const value = (): string | number | boolean => {
    const t = tokens[i++];
    if (t.kind !== 'value')
      throw fail(
        t,
        `expected a value (a quoted string, a number, true or false)${t.kind === 'ident' ? `, got '${t.text}' (quote strings)` : ''}`,
      );
    return t.value;
  };
  if (tokens[0].kind === 'end') return conditions;
  for (;;) {
    const field = tokens[i++];
    if (field.kind !== 'ident' || isKeyword(field, 'AND') || isKeyword(field, 'BETWEEN'))
      throw fail(field, 'expected a field name');
    const op = tokens[i];
    if (isKeyword(op, 'BETWEEN')) {
      i++;
      const low = value();
      if (!isKeyword(tokens[i], 'AND')) throw fail(tokens[i], 'expected AND between the two ends of BETWEEN');
      i++;
      const high = value();
      conditions.push(
        { field: field.text, op: '>=', value: low, position: field.pos },
        { field: field.text, op: '<=', value: high, position: field.pos },
      );
    } else {
      if (op.kind !== 'op') throw fail(op, 'expected an operator (= != < <= > >= or BETWEEN)');
      i++;
      conditions.push({ field: field.text, op: op.text, value: value(), position: field.pos });
    }
    const next = tokens[i];
    if (next.kind === 'end') return conditions;
    if (!isKeyword(next, 'AND'))
      throw fail(
        next,
        isKeyword(next, 'OR')
          ? 'OR is not supported: conditions are joined by AND'
          : 'expected AND or the end of the query',
      );
    i++;
  }
}

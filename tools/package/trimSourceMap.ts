/** The fields of a source map (version 3) that {@link keepSources} reads and writes. */
export interface SourceMapV3 {
  version: 3;
  sources: string[];
  names: string[];
  mappings: string;
  [field: string]: unknown;
}

const digits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const digitValues = new Map([...digits].map((digit, value) => [digit, value]));

function decodeSegment(text: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const digit of text) {
    const bits = digitValues.get(digit);
    if (bits === undefined) throw new Error(`'${digit}' is not a base64 VLQ digit.`);
    value += (bits & 31) << shift;
    if (bits & 32) {
      shift += 5;
    } else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

function encodeValue(value: number): string {
  let rest = value < 0 ? (-value << 1) | 1 : value << 1;
  let text = '';
  do {
    let bits = rest & 31;
    rest >>>= 5;
    if (rest > 0) bits |= 32;
    text += digits[bits];
  } while (rest > 0);
  return text;
}

/**
 * The map with only the mappings into sources `keep` accepts: generated code from any other source maps to nothing
 * (a stack frame there names the bundle's own line). Node decodes every mapping of a map the first time a stack trace
 * needs it, so a bundle's map limited to the app's own sources costs a fraction of one that covers its dependencies.
 */
export function keepSources(map: SourceMapV3, keep: (source: string) => boolean): SourceMapV3 {
  const kept = map.sources.map((source) => keep(source));
  const newIndex: number[] = [];
  const sources: string[] = [];
  map.sources.forEach((source, index) => {
    if (kept[index]) newIndex[index] = sources.push(source) - 1;
  });
  // Decoded fields are relative to the previous segment's (the column to the previous one on the same line).
  let source = 0;
  let line = 0;
  let column = 0;
  let name = 0;
  const previous = { source: 0, line: 0, column: 0, name: 0 };
  const lines = map.mappings.split(';').map((generatedLine) => {
    let generatedColumn = 0;
    let previousColumn = 0;
    const segments: string[] = [];
    let mapping = false;
    // A generated column that maps to nothing: ends the mapping before it on the line.
    const unmapped = () => {
      if (!mapping) return;
      segments.push(encodeValue(generatedColumn - previousColumn));
      previousColumn = generatedColumn;
      mapping = false;
    };
    for (const text of generatedLine.split(',')) {
      if (text === '') continue;
      const fields = decodeSegment(text);
      generatedColumn += fields[0]!;
      if (fields.length < 4) {
        unmapped();
        continue;
      }
      source += fields[1]!;
      line += fields[2]!;
      column += fields[3]!;
      if (fields.length >= 5) name += fields[4]!;
      if (!kept[source]) {
        unmapped();
        continue;
      }
      const target = newIndex[source]!;
      let segment =
        encodeValue(generatedColumn - previousColumn) +
        encodeValue(target - previous.source) +
        encodeValue(line - previous.line) +
        encodeValue(column - previous.column);
      if (fields.length >= 5) {
        segment += encodeValue(name - previous.name);
        previous.name = name;
      }
      previousColumn = generatedColumn;
      Object.assign(previous, { source: target, line, column });
      segments.push(segment);
      mapping = true;
    }
    return segments.join(',');
  });
  return { ...map, sources, mappings: lines.join(';') };
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jobSubmissionRequestSchema } from '../../../src/jobs/submission/jobSubmissionRequest';

const doc = (name: string) => readFileSync(join(__dirname, '..', '..', '..', name), 'utf8');

/** `{ jobType, payload?, … }` as written after `heading` (or first, without one): each field and whether it has `?`. */
function submissionFields(text: string, heading = ''): Record<string, 'required' | 'optional'> {
  const shape = /`\{ (jobType[^}]*) \}`/.exec(text.slice(text.indexOf(heading)))?.[1] ?? '';
  return Object.fromEntries(
    shape.split(',').map((field) => {
      const name = field.trim();
      return name.endsWith('?') ? [name.slice(0, -1), 'optional'] : [name, 'required'];
    }),
  );
}

describe('docs/api.md and the README on a submission', () => {
  it('mark optional exactly the fields the submission schema lets a caller leave out', () => {
    const schema = Object.fromEntries(
      Object.entries(jobSubmissionRequestSchema.shape).map(([name, field]) => [
        name,
        field.safeParse(undefined).success ? 'optional' : 'required',
      ]),
    );

    expect(submissionFields(doc('docs/api.md'), '## `POST /api/jobs`')).toEqual(schema);
    expect(submissionFields(doc('README.md'), '### Jobs')).toEqual(schema);
  });
});

import { jobIdForKey } from '../../../../src/jobs/submission/jobIdForKey';

describe('jobIdForKey', () => {
  it('names one job per key: the same key always gives the same version-5 GUID', () => {
    const id = jobIdForKey('order-42');

    expect(jobIdForKey('order-42')).toBe(id);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('gives different keys different ids, case and Unicode included', () => {
    const ids = ['order-42', 'Order-42', 'order-43', 'ordér-42', ''].map(jobIdForKey);

    expect(new Set(ids).size).toBe(ids.length);
  });
});

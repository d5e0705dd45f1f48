import { isFunctionDisabled } from '../../../tools/local-host/disabledFunctions';

describe('isFunctionDisabled', () => {
  it.each([
    [{ 'AzureWebJobs.processJob.Disabled': 'true' }, true],
    [{ 'AzureWebJobs.processJob.Disabled': ' TRUE ' }, true],
    [{ 'AzureWebJobs.processJob.Disabled': '1' }, true],
    [{ 'AzureWebJobs.processJob.Disabled': 'false' }, false],
    [{ 'AzureWebJobs.processJob.Disabled': '' }, false],
    [{ 'AzureWebJobs.submitJob.Disabled': 'true' }, false],
    [{}, false],
  ])('reads %j for processJob as %s, as the Functions host does', (env, disabled) => {
    expect(isFunctionDisabled(env, 'processJob')).toBe(disabled);
  });
});

const { spawnSync } = require('node:child_process');

/**
 * test/interop drives Microsoft's .NET Service Bus client and the Bicep CLI, both through the .NET SDK. On a
 * machine without it they are left out with one line saying so; CI sets SDAP_REQUIRE_DOTNET=1, so that there they
 * run or fail.
 */
const hasDotnet = spawnSync('dotnet', ['--version'], { stdio: 'ignore' }).status === 0;
const leaveOutInterop = !hasDotnet && process.env.SDAP_REQUIRE_DOTNET !== '1';
if (leaveOutInterop) {
  console.warn(
    'test/interop (the .NET interop suite and the Bicep build) was not run: `dotnet` is not on PATH. ' +
      'Install the .NET 10 SDK (https://dot.net) and run `npm test` again.',
  );
}

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', ...(leaveOutInterop ? ['<rootDir>/test/interop/'] : [])],
  transform: {
    // Type checking is `npm run typecheck`'s job; transpile-only keeps the suite fast on two cores.
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }],
  },
  testTimeout: 60000,
  maxWorkers: 2,
};

// The validation gate's two activities, faked for the scenarios' decision tests: no known good baseline,
// every check passes; each call recorded in `calls`.
export function passingGateFakes(calls: string[]) {
  return {
    async findValidationBaseline(input: { database: string; at: string }) {
      calls.push(`baseline of ${input.database}`);
      return { found: false, reason: `no known good baseline of ${input.database} at or before ${input.at}` };
    },
    async runValidationChecks(input: { database: string }) {
      calls.push(`validate ${input.database}`);
      return { database: input.database, passed: true, checks: [{ verdict: 'pass' }], summary: ['✅ all good'] };
    },
  };
}

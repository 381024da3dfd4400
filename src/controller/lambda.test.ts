import { describe, expect, it } from 'vitest';
import { deadlineStop, LAMBDA_STOP_MARGIN_MS, stopMargin } from './lambda.js';

describe("the Lambda handler's deadline", () => {
  it.each([
    ["the template's longest timeout", 900_000, LAMBDA_STOP_MARGIN_MS],
    ['its shortest', 60_000, 20_000],
    ['a function given less time by hand keeps a third of it', 15_000, 5_000],
  ])('keeps %s for the calls under way', (_case, remaining, margin) => {
    expect(stopMargin(remaining)).toBe(margin);
  });

  it('tells the pass to stop once less time is left than the margin, and why', () => {
    let left = 300_000;
    const shouldStop = deadlineStop({ getRemainingTimeInMillis: () => left });
    expect(shouldStop?.()).toBeUndefined();
    left = 20_001;
    expect(shouldStop?.()).toBeUndefined();
    left = 19_500;
    expect(shouldStop?.()).toBe("the function's time limit is near (19.5 s left; 20 s are kept for the calls under way)");
  });

  it('never stops a pass whose context cannot tell the time left', () => {
    expect(deadlineStop(undefined)).toBeUndefined();
    expect(deadlineStop({ awsRequestId: 'req-1' })).toBeUndefined();
  });
});

import { workflowStorage } from './context.js';

let installed = false;

/**
 * Makes `Date.now()`, `new Date()` (no arguments) and `Math.random()` deterministic inside
 * workflow code: history time and a PRNG seeded by the run id. Outside workflow code they
 * behave as usual. Installed once, when the first workflow runs.
 */
export function installDeterminism(): void {
  if (installed) return;
  installed = true;
  const RealDate = Date;
  const realNow = Date.now.bind(Date);
  const realRandom = Math.random.bind(Math);

  RealDate.now = () => {
    const activation = workflowStorage.getStore();
    return activation ? activation.now : realNow();
  };
  Math.random = () => {
    const activation = workflowStorage.getStore();
    return activation ? activation.random() : realRandom();
  };
  globalThis.Date = new Proxy(RealDate, {
    construct(target, args, newTarget) {
      const activation = args.length === 0 ? workflowStorage.getStore() : undefined;
      return Reflect.construct(target, activation ? [activation.now] : args, newTarget);
    },
    apply(target, thisArg, args) {
      const activation = workflowStorage.getStore();
      return activation ? new target(activation.now).toString() : Reflect.apply(target, thisArg, args);
    },
  });
}

/**
 * A class: what `@Workflow`, `@Activities` and the client's typed calls take. The same shape as
 * Nest's `Type`, declared here so that the layers below `nest/` need not import Nest.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- a class is a Function, as Nest's Type says
export interface Type<T = object> extends Function {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  new (...args: any[]): T;
}

/** Injection token of the resolved module options. */
export const DURABLE_OPTIONS = Symbol('REDURABLE_OPTIONS');
/** Injection token of the raw options given to forRoot/forRootAsync. */
export const DURABLE_RAW_OPTIONS = Symbol('REDURABLE_RAW_OPTIONS');

import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import { Workflow, WorkflowRun } from '../definitions/workflow.decorator.js';
import { DurableRegistry, workflowDefinitionOf } from '../definitions/registry.js';
import { DuplicateRegistrationError, InvalidWorkflowClassError } from '../errors/library.errors.js';
import { InvalidSearchAttributeError } from '../errors/search.errors.js';
import { mergeSearchAttributes, recordSearchAttributes, searchAttributeValues } from './search-attributes.js';

describe('search attribute values', () => {
  const declared = { customerId: 'keyword', amount: 'number', dueAt: 'datetime', vip: 'bool' } as const;

  test('validated against the declaration and recorded typed (a datetime as epoch ms, from a Date or an ISO string)', () => {
    expect(
      recordSearchAttributes(
        'Order',
        { customerId: 'c', amount: 1.5, dueAt: '2026-01-02T00:00:00Z', vip: false },
        declared,
      ),
    ).toEqual({
      customerId: { type: 'keyword', value: 'c' },
      amount: { type: 'number', value: 1.5 },
      dueAt: { type: 'datetime', value: Date.UTC(2026, 0, 2) },
      vip: { type: 'bool', value: false },
    });
    expect(() => recordSearchAttributes('Order', { custId: 'c' }, declared)).toThrow(InvalidSearchAttributeError);
    expect(() => recordSearchAttributes('Order', { amount: NaN }, declared)).toThrow(
      /'amount' of workflow 'Order': expected a finite number/,
    );
    expect(() => recordSearchAttributes('Order', { dueAt: new Date('nope') }, declared)).toThrow(
      /expected a Date or an ISO 8601 date string, got the invalid Date/,
    );
    expect(() => recordSearchAttributes('Order', { customerId: 'x'.repeat(257) }, declared)).toThrow(
      /at most 256 characters/,
    );
  });

  test('without a declaration the types are inferred; null removes in a merge; Dates come back as Dates', () => {
    const recorded = recordSearchAttributes('Order', { a: 'x', n: 2, b: true, d: new Date(5) }, undefined);
    expect(Object.values(recorded).map((r) => r?.type)).toEqual(['keyword', 'number', 'bool', 'datetime']);
    expect(() => recordSearchAttributes('Order', { o: {} as never }, undefined)).toThrow(
      /must be a string, number, boolean or Date/,
    );
    const merged = mergeSearchAttributes(recorded as never, { a: null, n: { type: 'number', value: 3 } });
    expect(searchAttributeValues(merged)).toEqual({ n: 3, b: true, d: new Date(5) });
  });

  test('declarations: a bad name or type refuses the class, and one name with two types in one registry is refused', () => {
    @Workflow({ searchAttributes: { StartTime: 'datetime' } })
    class Reserved {
      @WorkflowRun() async run() {}
    }
    expect(() => workflowDefinitionOf(Reserved)).toThrow(InvalidWorkflowClassError);
    @Workflow({ searchAttributes: { amount: 'money' as never } })
    class BadType {
      @WorkflowRun() async run() {}
    }
    expect(() => workflowDefinitionOf(BadType)).toThrow(/type 'money': use keyword, number, datetime, bool/);
    @Workflow({ searchAttributes: { amount: 'number' } })
    class A {
      @WorkflowRun() async run() {}
    }
    @Workflow({ searchAttributes: { amount: 'keyword' } })
    class B {
      @WorkflowRun() async run() {}
    }
    const registry = new DurableRegistry();
    registry.addWorkflow(A);
    expect(() => registry.addWorkflow(B)).toThrow(DuplicateRegistrationError);
  });
});

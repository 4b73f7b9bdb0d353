/**
 * Looks a key up in a table only among the table's own entries. `TABLE[userString]` also finds what every
 * object inherits (`constructor`, `toString`, `__proto__`), which is how `language: "constructor"` once
 * became a function and a broken call; every table indexed by a string from outside goes through here.
 * @example own({ en: 'Goodbye' }, 'constructor') // undefined
 */
export function own<V>(table: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

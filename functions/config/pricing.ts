// The price table of the cost report: config/pricing.yaml beside the backup config, zod-validated,
// or the built-in list prices (the same numbers as the shipped file) when there is none.
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { z } from "zod";
import type { PriceTable } from "../core/cost.js";
import { UserInputError } from "../core/errors.js";
import { parseConfig } from "./load.js";

const price = z.number().finite().nonnegative();
const classPrices = z.strictObject({
  STANDARD: price,
  NEARLINE: price,
  COLDLINE: price,
  ARCHIVE: price,
  LOCAL: price,
});

export const pricingSchema = z.strictObject({
  version: z.literal(1),
  currency: z.string().regex(/^[A-Z]{3}$/, "expected a currency code such as USD"),
  /** Where the prices apply, e.g. "us-central1"; shown in the report. */
  location: z.string().min(1),
  /** When the prices were read off the list: the report shows it so that a stale table is seen. */
  asOf: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date such as "2025-06-01" (quoted)'),
  storage: classPrices,
  retrieval: classPrices,
});

export type Pricing = z.infer<typeof pricingSchema> & PriceTable;

/** List prices for us-central1, USD: see config/pricing.yaml, which must say the same (a test checks). */
export const DEFAULT_PRICING: Pricing = {
  version: 1,
  currency: "USD",
  location: "us-central1",
  asOf: "2025-06-01",
  storage: { STANDARD: 0.02, NEARLINE: 0.01, COLDLINE: 0.004, ARCHIVE: 0.0012, LOCAL: 0 },
  retrieval: { STANDARD: 0, NEARLINE: 0.01, COLDLINE: 0.02, ARCHIVE: 0.05, LOCAL: 0 },
};

export const PRICING_FILE = "pricing.yaml";

/** The table, and where it came from ("built-in list prices" or the file's path). */
export async function loadPricing(configFile: string): Promise<{ pricing: Pricing; source: string }> {
  const file = join(dirname(configFile), PRICING_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { pricing: DEFAULT_PRICING, source: "built-in list prices" };
    throw new UserInputError(`${file}: cannot read (${code})`, { cause: err });
  }
  return { pricing: parseConfig(pricingSchema, text, file), source: file };
}

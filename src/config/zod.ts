/**
 * zod as cslr uses it: the one place its global configuration is set, so every schema module
 * imports `z` from here. A CLI run validates each schema once (and the Jobs API client once per
 * request): zod's JIT-compiled parsers cost more to build (~4 ms at start-up) than they save.
 */
import { z } from "zod";

z.config({ jitless: true });

export { z };

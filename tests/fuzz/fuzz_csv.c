/* The CSV reader every data tool uses (csv.c), with options the first byte picks (the
 * delimiter, trim, ragged, small caps), through a header, every record and every field
 * as a number. */
#include "fuzz_util.h"

#include "skadi/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  static const char delims[] = {',', ';', '\t', '|'};
  sk_csv_opts o;
  sk_csv_opts_init(&o);
  o.delimiter = delims[data[0] & 3];
  o.trim = (data[0] >> 2) & 1;
  o.ragged = (data[0] >> 3) & 1;
  if (data[0] & 0x10) {
    o.max_record_bytes = 64;
    o.max_fields = 4;
  }
  FILE *f = fmemopen((void *)(data + 1), size - 1 ? size - 1 : 1, "rb");
  if (!f)
    return 0;
  if (size == 1)
    fgetc(f); /* an empty input: fmemopen needs a size of 1 */
  sk_csv *r = NULL;
  char err[512];
  if (sk_csv_create_stream(&r, f, "fuzz.csv", &o, err, sizeof err) == SK_OK) {
    int more = 1;
    if (sk_csv_read_header(r, err, sizeof err) == SK_OK) {
      size_t idx;
      sk_csv_column(r, "ts", &idx, err, sizeof err);
      sk_csv_column_nocase(r, "RACK_ID", &idx, err, sizeof err);
      char names[256];
      sk_csv_header_names(r, names, sizeof names);
      for (int rows = 0; rows < 10000 && sk_csv_next(r, &more, err, sizeof err) == SK_OK && more;
           rows++)
        for (size_t i = 0; i < sk_csv_field_count(r); i++) {
          double x;
          size_t line, col;
          sk_csv_field_number(r, i, &x, err, sizeof err);
          sk_csv_field_pos(r, i, &line, &col);
        }
    }
    sk_csv_destroy(r);
  }
  fclose(f);
  return 0;
}

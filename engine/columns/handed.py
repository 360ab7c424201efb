"""Why the column back end hands a person to the one-person back end: the codes of `Result.handed`.

A person is handed when the answer is the one-person back end's to give (a death, a given start, an opening
balance), or its words (a field or record refused, a fact the rules need missing), or beyond the columns' common
shape. Each code is counted in the batch's summary; its words are the catalogue's `batch.handed.<name>`
(and `batch.whole.<reason>` for a whole batch).
"""

# 0: computed here. Each person gets the first reason found.
HANDED = ("", "death", "given_start", "opening_balance", "invalid_field", "positioned_group", "dated_memberships",
          "refused_record", "missing_fact", "unsplit_price", "record_after_start", "whole_batch")
(COMPUTED, DEATH, GIVEN_START, OPENING_BALANCE, INVALID_FIELD, POSITIONED_GROUP, DATED_MEMBERSHIPS, REFUSED_RECORD,
 MISSING_FACT, UNSPLIT_PRICE, RECORD_AFTER_START, WHOLE_BATCH) = range(len(HANDED))

# Why a whole batch is handed (`Unsupported.reason`): a column of another type than the common shape's, a column
# outside it, a constant of the scheme that depends on a fact, a fact no column holds, a figure in a formula that
# is not a number, a division by zero in a formula, an amount past an output column, Arrow unable to read a column.
WHOLE_REASONS = ("shape", "column_type", "fact_constant", "undefined_constant", "unread_fact", "not_number",
                 "division_by_zero", "too_large", "arrow")

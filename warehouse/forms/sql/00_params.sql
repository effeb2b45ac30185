-- The snapshot date of the forms.
CREATE OR REPLACE TEMP TABLE _form_params AS SELECT CAST(${as_of} AS DATE) AS as_of;

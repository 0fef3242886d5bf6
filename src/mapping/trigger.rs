//! The shape of a trigger export: parameters bound by name (`new`, `old`, `op`, `table`,
//! `args`) and a result that decides the row written. Pure: the validator checks it when a
//! `RETURNS trigger` function is created, the call path binds it to each table it fires on.

use super::WitType;

/// The operations a trigger's `op` enum may name.
pub const TRIGGER_OPS: [&str; 3] = ["insert", "update", "delete"];

/// One parameter of a trigger export, by its name.
#[derive(Debug, Clone, PartialEq)]
pub enum TriggerParam {
    /// `new`: the new row (INSERT, UPDATE), a record whose fields name columns.
    New(RowParam),
    /// `old`: the old row (UPDATE, DELETE).
    Old(RowParam),
    /// `op`: an enum whose cases are among `insert`, `update`, `delete`.
    Op(Vec<String>),
    /// `table`: the schema-qualified table name.
    Table,
    /// `args`: the trigger's arguments (`TG_ARGV`).
    Args,
}

/// A row parameter: its record type, and whether it is an `option` (none when the operation
/// has no such row).
#[derive(Debug, Clone, PartialEq)]
pub struct RowParam {
    pub record: WitType,
    pub optional: bool,
}

/// What the export's result (a `result`'s `ok` type) makes of the row.
#[derive(Debug, Clone, PartialEq)]
pub enum TriggerOutcome {
    /// No result: the row is written unchanged.
    Unchanged,
    /// A record: the row written (columns it does not name are kept); an `option`'s none skips
    /// the row.
    Row(RowParam),
}

/// A trigger export's parameters and outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerShape {
    pub params: Vec<TriggerParam>,
    pub outcome: TriggerOutcome,
}

/// A record, or an option of one.
fn row_of(ty: &WitType) -> Option<RowParam> {
    match ty {
        WitType::Record(_) => Some(RowParam {
            record: ty.clone(),
            optional: false,
        }),
        WitType::Option(inner) if matches!(**inner, WitType::Record(_)) => Some(RowParam {
            record: (**inner).clone(),
            optional: true,
        }),
        _ => None,
    }
}

impl TriggerShape {
    /// The trigger shape of an export with `params` and `result`; `Err` says what does not fit.
    pub fn of(params: &[(String, WitType)], result: Option<&WitType>) -> Result<Self, String> {
        let params = params
            .iter()
            .map(|(name, ty)| param(name, ty))
            .collect::<Result<Vec<_>, _>>()?;
        let ok = match result {
            Some(WitType::Result { ok, .. }) => ok.as_deref(),
            other => other,
        };
        let outcome = match ok {
            None => TriggerOutcome::Unchanged,
            Some(ty) => TriggerOutcome::Row(row_of(ty).ok_or_else(|| {
                format!(
                    "its result is {ty}: a trigger export returns a record (the row written), \
                     an option of one (none skips the row), either in a result, or nothing"
                )
            })?),
        };
        Ok(TriggerShape { params, outcome })
    }
}

fn param(name: &str, ty: &WitType) -> Result<TriggerParam, String> {
    let wrong = |needs: &str| {
        Err(format!(
            "parameter {name} is {ty}, but a trigger's {name} is {needs}"
        ))
    };
    match name {
        "new" | "old" => match row_of(ty) {
            Some(row) if name == "new" => Ok(TriggerParam::New(row)),
            Some(row) => Ok(TriggerParam::Old(row)),
            None => wrong("a record whose fields name the table's columns (or an option of one)"),
        },
        "op" => match ty {
            WitType::Enum(cases) if cases.iter().all(|c| TRIGGER_OPS.contains(&c.as_str())) => {
                Ok(TriggerParam::Op(cases.clone()))
            }
            _ => wrong("an enum with cases among insert, update, delete"),
        },
        "table" => match ty {
            WitType::String => Ok(TriggerParam::Table),
            _ => wrong("a string"),
        },
        "args" => match ty {
            WitType::List(inner) if **inner == WitType::String => Ok(TriggerParam::Args),
            _ => wrong("a list<string>"),
        },
        other => Err(format!(
            "parameter {other} is not a trigger parameter: a trigger export's parameters are \
             named new, old, op, table and args"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> WitType {
        WitType::Record(vec![("id".into(), WitType::S32)])
    }

    fn opt(t: WitType) -> WitType {
        WitType::Option(Box::new(t))
    }

    #[test]
    fn every_parameter_by_name_in_any_order() {
        let params = vec![
            ("args".into(), WitType::List(Box::new(WitType::String))),
            ("old".into(), opt(item())),
            (
                "op".into(),
                WitType::Enum(vec!["delete".into(), "insert".into()]),
            ),
            ("table".into(), WitType::String),
            ("new".into(), item()),
        ];
        let shape = TriggerShape::of(&params, None).unwrap();
        assert_eq!(shape.outcome, TriggerOutcome::Unchanged);
        assert_eq!(shape.params[0], TriggerParam::Args);
        assert_eq!(
            shape.params[1],
            TriggerParam::Old(RowParam {
                record: item(),
                optional: true
            })
        );
        assert!(matches!(&shape.params[4], TriggerParam::New(r) if !r.optional));
    }

    #[test]
    fn results_that_make_a_row() {
        let ok = |t: Option<WitType>| {
            TriggerShape::of(&[], t.as_ref())
                .map(|s| s.outcome)
                .map_err(|e| e.to_string())
        };
        assert!(matches!(ok(Some(item())), Ok(TriggerOutcome::Row(r)) if !r.optional));
        assert!(matches!(ok(Some(opt(item()))), Ok(TriggerOutcome::Row(r)) if r.optional));
        let res = WitType::Result {
            ok: Some(Box::new(opt(item()))),
            err: Some(Box::new(WitType::String)),
        };
        assert!(matches!(ok(Some(res)), Ok(TriggerOutcome::Row(r)) if r.optional));
        let unit = WitType::Result {
            ok: None,
            err: Some(Box::new(WitType::String)),
        };
        assert_eq!(ok(Some(unit)), Ok(TriggerOutcome::Unchanged));
        assert!(
            ok(Some(WitType::String))
                .unwrap_err()
                .contains("its result is string")
        );
        assert!(ok(Some(opt(WitType::S32))).is_err());
    }

    #[test]
    fn refusals_name_the_parameter() {
        let refuse =
            |name: &str, ty: WitType| TriggerShape::of(&[(name.into(), ty)], None).unwrap_err();
        assert!(refuse("x", WitType::S32).contains("parameter x is not a trigger parameter"));
        assert!(refuse("new", WitType::String).contains("parameter new is string"));
        assert!(refuse("old", opt(WitType::S32)).contains("parameter old"));
        assert!(
            refuse("op", WitType::Enum(vec!["truncate".into()])).contains("insert, update, delete")
        );
        assert!(refuse("table", WitType::S32).contains("a string"));
        assert!(refuse("args", WitType::List(Box::new(WitType::S32))).contains("list<string>"));
    }
}

//! The item sheet's state: options chosen within each group's min/max, and a combo's walk
//! through its slots. Pure: it knows the menu, never prices (the engine quotes the line).

use std::collections::BTreeMap;

use kiosk_engine::kiosk_core::cart::{CartLine, Choices, SlotChoice};
use kiosk_engine::kiosk_core::menu::{Menu, ModifierGroup, ModifierOption, Product, Text};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductBuilder {
    product: String,
    quantity: u32,
    shape: Shape,
    /// A showing sells several tickets at once: how many of each of its ticket types.
    tickets: Option<Tickets>,
}

/// The ticket types of a showing (its showtime's group), in the menu's order, and how many
/// of each are wanted: one line each in the cart.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Tickets {
    group: String,
    counts: Vec<(String, u32)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Shape {
    Item { modifiers: Choices },
    Combo { step: usize, slots: Vec<SlotState> },
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct SlotState {
    id: String,
    item: Option<String>,
    modifiers: Choices,
}

/// What still stops the line from being added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Missing<'m> {
    /// A combo slot without its item.
    Slot(&'m Text),
    /// A modifier group with fewer options than its minimum.
    Options(&'m Text),
}

impl<'m> Missing<'m> {
    pub fn name(&self) -> &'m Text {
        match self {
            Missing::Slot(name) | Missing::Options(name) => name,
        }
    }
}

impl ProductBuilder {
    /// A new line for a product of the menu, with the menu's defaults chosen: an item's
    /// default options, and in each combo slot its default item (or its only one) with that
    /// item's default options.
    /// A showing starts with one ticket of its default type.
    pub fn new(menu: &Menu, product: &str) -> Option<ProductBuilder> {
        let mut tickets = None;
        let shape = match menu.product(product)? {
            Product::Item(item) => {
                let mut modifiers = default_options(menu, product);
                let types = item.showtime.as_ref().and_then(|show| show.tickets.as_ref());
                if let Some(group) = types.and_then(|group| menu.modifier_group(group.as_str())) {
                    modifiers.remove(group.id.as_str());
                    let counts =
                        group.options.iter().map(|o| (o.id.as_str().to_owned(), u32::from(o.default))).collect();
                    tickets = Some(Tickets { group: group.id.as_str().to_owned(), counts });
                }
                Shape::Item { modifiers }
            }
            Product::Combo(combo) => Shape::Combo {
                step: 0,
                slots: combo
                    .slots
                    .iter()
                    .map(|slot| {
                        let item = match slot.choices.as_slice() {
                            [only] => Some(only.item.as_str().to_owned()),
                            choices => choices.iter().find(|c| c.default).map(|c| c.item.as_str().to_owned()),
                        };
                        let modifiers = item.as_deref().map_or_else(Choices::new, |item| default_options(menu, item));
                        SlotState { id: slot.id.as_str().to_owned(), item, modifiers }
                    })
                    .collect(),
            },
        };
        Some(ProductBuilder { product: product.to_owned(), quantity: 1, shape, tickets })
    }

    /// Takes back the defaults that cannot be sold now: a slot's item sold out (the slot is
    /// empty again) and options sold out.
    pub fn drop_unavailable(&mut self, item_out: impl Fn(&str) -> bool, option_out: impl Fn(&str, &str) -> bool) {
        let keep = |choices: &mut Choices| {
            for (group, options) in choices.iter_mut() {
                options.retain(|option| !option_out(group, option));
            }
            choices.retain(|_, options| !options.is_empty());
        };
        match &mut self.shape {
            Shape::Item { modifiers } => keep(modifiers),
            Shape::Combo { slots, .. } => {
                for slot in slots {
                    if slot.item.as_deref().is_some_and(&item_out) {
                        slot.item = None;
                        slot.modifiers.clear();
                    }
                    keep(&mut slot.modifiers);
                }
            }
        }
    }

    pub fn product(&self) -> &str {
        &self.product
    }

    pub fn quantity(&self) -> u32 {
        self.quantity
    }

    pub fn set_quantity(&mut self, quantity: u32) {
        self.quantity = quantity.clamp(1, kiosk_engine::kiosk_core::cart::MAX_QUANTITY);
    }

    /// The combo step shown (0 for an item) and how many there are (0 for an item).
    pub fn step(&self) -> (usize, usize) {
        match &self.shape {
            Shape::Item { .. } => (0, 0),
            Shape::Combo { step, slots } => (*step, slots.len()),
        }
    }

    /// The slot of the step shown and the item chosen for it.
    pub fn current_slot(&self) -> Option<(&str, Option<&str>)> {
        match &self.shape {
            Shape::Item { .. } => None,
            Shape::Combo { step, slots } => slots.get(*step).map(|slot| (slot.id.as_str(), slot.item.as_deref())),
        }
    }

    /// The item whose options are shown now: the product itself, or the current slot's item.
    fn current_item(&self) -> Option<&str> {
        match &self.shape {
            Shape::Item { .. } => Some(&self.product),
            Shape::Combo { step, slots } => slots.get(*step)?.item.as_deref(),
        }
    }

    fn current_choices(&self) -> Option<&Choices> {
        match &self.shape {
            Shape::Item { modifiers } => Some(modifiers),
            Shape::Combo { step, slots } => slots.get(*step).map(|slot| &slot.modifiers),
        }
    }

    fn current_choices_mut(&mut self) -> Option<&mut Choices> {
        match &mut self.shape {
            Shape::Item { modifiers } => Some(modifiers),
            Shape::Combo { step, slots } => slots.get_mut(*step).map(|slot| &mut slot.modifiers),
        }
    }

    /// The modifier groups shown now, in the menu's order (a showing's ticket types apart).
    pub fn groups<'m>(&self, menu: &'m Menu) -> Vec<&'m ModifierGroup> {
        let Some(item) = self.current_item().and_then(|id| menu.item(id)) else { return Vec::new() };
        let tickets = self.tickets.as_ref().map(|tickets| tickets.group.as_str());
        item.modifier_groups
            .iter()
            .filter(|group| Some(group.as_str()) != tickets)
            .filter_map(|group| menu.modifier_group(group.as_str()))
            .collect()
    }

    /// A showing's ticket types, each with how many are wanted; `None` for anything else.
    pub fn ticket_types<'m>(&self, menu: &'m Menu) -> Option<Vec<(&'m ModifierOption, u32)>> {
        let tickets = self.tickets.as_ref()?;
        let group = menu.modifier_group(&tickets.group)?;
        Some(tickets.counts.iter().filter_map(|(id, count)| Some((group.option(id)?, *count))).collect())
    }

    /// How many tickets in all (0 for anything but a showing).
    pub fn ticket_count(&self) -> u32 {
        self.tickets.as_ref().map_or(0, |tickets| tickets.counts.iter().map(|(_, count)| count).sum())
    }

    /// How many tickets of one type; the whole stays within a line's most units.
    pub fn set_tickets(&mut self, ticket_type: &str, count: u32) {
        let others = self.ticket_count() - self.tickets_of(ticket_type);
        let Some(tickets) = &mut self.tickets else { return };
        if let Some((_, wanted)) = tickets.counts.iter_mut().find(|(id, _)| id == ticket_type) {
            *wanted = count.min(kiosk_engine::kiosk_core::cart::MAX_QUANTITY.saturating_sub(others));
        }
    }

    fn tickets_of(&self, ticket_type: &str) -> u32 {
        let counts = self.tickets.iter().flat_map(|tickets| &tickets.counts);
        counts.filter(|(id, _)| id == ticket_type).map(|(_, count)| count).sum()
    }

    pub fn is_selected(&self, group: &str, option: &str) -> bool {
        self.current_choices()
            .and_then(|choices| choices.get(group))
            .is_some_and(|chosen| chosen.iter().any(|o| o == option))
    }

    /// Picks or drops an option. A group of one replaces its choice; a full group ignores a
    /// further pick until one is dropped.
    pub fn toggle(&mut self, menu: &Menu, group: &str, option: &str) {
        let Some(rules) = self.groups(menu).into_iter().find(|g| g.id.as_str() == group) else { return };
        if rules.option(option).is_none() {
            return;
        }
        let max = usize::try_from(rules.max).unwrap_or(usize::MAX);
        let Some(choices) = self.current_choices_mut() else { return };
        let chosen = choices.entry(group.to_owned()).or_default();
        if let Some(at) = chosen.iter().position(|o| o == option) {
            chosen.remove(at);
        } else if max == 1 {
            *chosen = vec![option.to_owned()];
        } else if chosen.len() < max {
            chosen.push(option.to_owned());
        }
        if chosen.is_empty() {
            choices.remove(group);
        }
    }

    /// Puts an item in the current combo slot (its options start over).
    pub fn choose_slot_item(&mut self, menu: &Menu, item: &str) {
        let Shape::Combo { step, slots } = &mut self.shape else { return };
        let Some(combo) = menu.combo(&self.product) else { return };
        let allowed = combo.slots.get(*step).is_some_and(|slot| slot.choices.iter().any(|c| c.item.as_str() == item));
        if let (true, Some(slot)) = (allowed, slots.get_mut(*step))
            && slot.item.as_deref() != Some(item)
        {
            slot.item = Some(item.to_owned());
            slot.modifiers = default_options(menu, item);
        }
    }

    /// Puts an item with its options in the first combo slot that takes it ("make it a
    /// meal" with the burger just chosen); false when no slot does.
    pub fn prefill(&mut self, menu: &Menu, item: &str, modifiers: &Choices) -> bool {
        let Shape::Combo { slots, .. } = &mut self.shape else { return false };
        let Some(combo) = menu.combo(&self.product) else { return false };
        let takes =
            |slot: &kiosk_engine::kiosk_core::menu::ComboSlot| slot.choices.iter().any(|c| c.item.as_str() == item);
        let Some(slot) = combo.slots.iter().position(takes).and_then(|index| slots.get_mut(index)) else {
            return false;
        };
        slot.item = Some(item.to_owned());
        slot.modifiers = modifiers.clone();
        true
    }

    /// What the step shown still needs.
    pub fn missing_now<'m>(&self, menu: &'m Menu) -> Option<Missing<'m>> {
        if let Shape::Combo { step, slots } = &self.shape {
            let slot = menu.combo(&self.product)?.slots.get(*step)?;
            if slots.get(*step)?.item.is_none() {
                return Some(Missing::Slot(&slot.name));
            }
        }
        let choices = self.current_choices()?;
        self.groups(menu)
            .into_iter()
            .find(|group| choices.get(group.id.as_str()).map_or(0, Vec::len) < usize::try_from(group.min).unwrap_or(0))
            .map(|group| Missing::Options(&group.name))
    }

    /// Moves to the next combo slot once the current one is complete.
    pub fn next_step(&mut self, menu: &Menu) -> bool {
        if self.missing_now(menu).is_some() {
            return false;
        }
        match &mut self.shape {
            Shape::Combo { step, slots } if *step + 1 < slots.len() => {
                *step += 1;
                true
            }
            _ => false,
        }
    }

    pub fn previous_step(&mut self) {
        if let Shape::Combo { step, .. } = &mut self.shape {
            *step = step.saturating_sub(1);
        }
    }

    /// What goes in the cart once every step is complete: the line, or a showing's line
    /// per ticket type wanted (none when no ticket is).
    pub fn lines(&self, menu: &Menu) -> Vec<CartLine> {
        let Some(line) = self.line(menu) else { return Vec::new() };
        let Some(tickets) = &self.tickets else { return vec![line] };
        let wanted = tickets.counts.iter().filter(|(_, count)| *count > 0);
        wanted
            .map(|(ticket_type, count)| {
                let mut modifiers = line.modifiers.clone();
                modifiers.insert(tickets.group.clone(), vec![ticket_type.clone()]);
                CartLine { modifiers, quantity: *count, ..line.clone() }
            })
            .collect()
    }

    /// The cart line, once every step is complete (a showing's, without its ticket type).
    fn line(&self, menu: &Menu) -> Option<CartLine> {
        match &self.shape {
            Shape::Item { modifiers } => self.missing_now(menu).is_none().then(|| CartLine {
                product: self.product.clone(),
                quantity: self.quantity,
                modifiers: modifiers.clone(),
                choices: BTreeMap::new(),
            }),
            Shape::Combo { slots, .. } => {
                let mut walker = self.clone();
                for index in 0..slots.len() {
                    walker.shape = match walker.shape {
                        Shape::Combo { slots, .. } => Shape::Combo { step: index, slots },
                        item => item,
                    };
                    if walker.missing_now(menu).is_some() {
                        return None;
                    }
                }
                let choices = slots
                    .iter()
                    .map(|slot| {
                        let item = slot.item.clone().expect("every slot was checked");
                        (slot.id.clone(), SlotChoice { item, modifiers: slot.modifiers.clone() })
                    })
                    .collect();
                Some(CartLine {
                    product: self.product.clone(),
                    quantity: self.quantity,
                    modifiers: Choices::new(),
                    choices,
                })
            }
        }
    }
}

/// An item's default options, by group.
fn default_options(menu: &Menu, item: &str) -> Choices {
    let Some(item) = menu.item(item) else { return Choices::new() };
    item.modifier_groups
        .iter()
        .filter_map(|group| menu.modifier_group(group.as_str()))
        .filter_map(|group| {
            let defaults: Vec<String> = group
                .options
                .iter()
                .filter(|option| option.default)
                .map(|option| option.id.as_str().to_owned())
                .collect();
            (!defaults.is_empty()).then(|| (group.id.as_str().to_owned(), defaults))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Menu {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../menus/brasserie/menu.toml");
        kiosk_engine::kiosk_core::menu_file::parse(path, &std::fs::read_to_string(path).unwrap(), &|_| true).unwrap()
    }

    fn cinema() -> Menu {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../menus/cinema/menu.toml");
        kiosk_engine::kiosk_core::menu_file::parse(path, &std::fs::read_to_string(path).unwrap(), &|_| true).unwrap()
    }

    fn missing(builder: &ProductBuilder, menu: &Menu) -> Option<String> {
        builder.missing_now(menu).map(|missing| missing.name().get("en").to_owned())
    }

    #[test]
    fn an_item_needs_its_required_options_and_respects_maximums() {
        let menu = demo();
        let mut burger = ProductBuilder::new(&menu, "burger-classic").unwrap();
        assert!(burger.is_selected("cuisson", "a-point"), "the menu's default cooking is chosen already");
        assert_eq!(missing(&burger, &menu), None);
        burger.toggle(&menu, "cuisson", "a-point");
        assert_eq!(missing(&burger, &menu).as_deref(), Some("Steak cooking"), "a default can be dropped");
        assert_eq!(burger.line(&menu), None, "no line without a cooking");
        burger.toggle(&menu, "cuisson", "saignant");
        burger.toggle(&menu, "cuisson", "a-point");
        assert!(!burger.is_selected("cuisson", "saignant"), "a group of one replaces its choice");
        assert!(burger.is_selected("cuisson", "a-point"));
        for sauce in ["ketchup", "mayonnaise", "moutarde"] {
            burger.toggle(&menu, "sauces", sauce);
        }
        assert!(!burger.is_selected("sauces", "moutarde"), "a third sauce is refused: two at most");
        burger.toggle(&menu, "sauces", "ketchup");
        assert!(!burger.is_selected("sauces", "ketchup"), "tapping a chosen option drops it");
        burger.toggle(&menu, "sauces", "no-such-sauce");
        burger.toggle(&menu, "no-such-group", "ketchup");
        burger.set_quantity(0);
        assert_eq!(burger.quantity(), 1, "at least one");
        let line = burger.line(&menu).unwrap();
        assert_eq!(line.product, "burger-classic");
        assert_eq!(line.modifiers["cuisson"], ["a-point"]);
        assert_eq!(line.modifiers["sauces"], ["mayonnaise"]);
        assert!(!line.modifiers.contains_key("no-such-group"));
        assert!(ProductBuilder::new(&menu, "no-such-item").is_none());
    }

    #[test]
    fn a_combo_starts_with_its_defaults_and_walks_through_its_slots() {
        let menu = demo();
        let mut meal = ProductBuilder::new(&menu, "menu-burger").unwrap();
        assert_eq!(meal.step(), (0, 3));
        assert_eq!(meal.current_slot(), Some(("burger", Some("burger-classic"))), "the slot's default");
        assert!(meal.is_selected("cuisson", "a-point"), "with its item's default options");
        let line = meal.line(&menu).expect("every slot has a default: the meal can be added at once");
        let chosen: Vec<_> = line.choices.iter().map(|(slot, choice)| (slot.as_str(), choice.item.as_str())).collect();
        assert_eq!(chosen, [("burger", "burger-classic"), ("drink", "cola"), ("side", "frites")]);
        assert_eq!(line.choices["drink"].modifiers["taille-boisson"], ["33cl"]);
        meal.choose_slot_item(&menu, "cola");
        assert_eq!(meal.current_slot(), Some(("burger", Some("burger-classic"))), "a drink cannot be the burger");
        meal.toggle(&menu, "cuisson", "bien-cuit");
        meal.choose_slot_item(&menu, "burger-veggie");
        assert_eq!(meal.current_slot(), Some(("burger", Some("burger-veggie"))));
        assert!(!meal.is_selected("cuisson", "bien-cuit"), "a new burger starts with its own defaults");
        meal.choose_slot_item(&menu, "burger-bacon-cheese");
        assert!(meal.is_selected("cuisson", "a-point"));
        meal.toggle(&menu, "cuisson", "a-point");
        assert_eq!(missing(&meal, &menu).as_deref(), Some("Steak cooking"), "the burger's own options");
        assert!(!meal.next_step(&menu), "no next step before the cooking is chosen");
        meal.toggle(&menu, "cuisson", "bien-cuit");
        assert!(meal.next_step(&menu));
        meal.choose_slot_item(&menu, "salade-verte");
        assert!(meal.next_step(&menu));
        assert!(!meal.next_step(&menu), "the last step");
        meal.choose_slot_item(&menu, "the-glace");
        let line = meal.line(&menu).expect("every slot is filled");
        let chosen: Vec<_> = line.choices.iter().map(|(slot, choice)| (slot.as_str(), choice.item.as_str())).collect();
        assert_eq!(chosen, [("burger", "burger-bacon-cheese"), ("drink", "the-glace"), ("side", "salade-verte")]);
        assert!(line.modifiers.is_empty(), "a combo's options belong to its parts");
    }

    #[test]
    fn defaults_sold_out_are_not_chosen() {
        let menu = demo();
        let mut meal = ProductBuilder::new(&menu, "menu-burger").unwrap();
        meal.drop_unavailable(|item| item == "frites", |group, option| (group, option) == ("cuisson", "a-point"));
        assert!(!meal.is_selected("cuisson", "a-point"));
        assert_eq!(missing(&meal, &menu).as_deref(), Some("Steak cooking"));
        assert_eq!(meal.line(&menu), None);
        meal.toggle(&menu, "cuisson", "saignant");
        assert!(meal.next_step(&menu));
        assert_eq!(meal.current_slot(), Some(("side", None)), "the side's default is sold out: the slot is empty");
        assert_eq!(missing(&meal, &menu).as_deref(), Some("Side"));
    }

    #[test]
    fn a_meal_starts_with_the_item_it_replaces() {
        let menu = demo();
        let medium: Choices = [("cuisson".to_owned(), vec!["a-point".to_owned()])].into();
        let mut meal = ProductBuilder::new(&menu, "menu-burger").unwrap();
        assert!(meal.prefill(&menu, "burger-classic", &medium));
        assert_eq!(meal.current_slot(), Some(("burger", Some("burger-classic"))));
        assert!(meal.is_selected("cuisson", "a-point"));
        assert!(meal.next_step(&menu), "the burger step is complete already");
        assert!(!meal.prefill(&menu, "croissant", &Choices::new()), "no slot of the meal takes a croissant");
        let mut croissant = ProductBuilder::new(&menu, "croissant").unwrap();
        assert!(!croissant.prefill(&menu, "croissant", &Choices::new()), "an item has no slots");
    }

    #[test]
    fn a_showing_sells_tickets_of_several_types_at_once() {
        let menu = cinema();
        let mut showing = ProductBuilder::new(&menu, "orbite-basse-1615").unwrap();
        let counts = |showing: &ProductBuilder| -> Vec<(String, u32)> {
            let types = showing.ticket_types(&menu).unwrap();
            types.into_iter().map(|(option, count)| (option.id.as_str().to_owned(), count)).collect()
        };
        let wanted = |list: &[(&str, u32)]| -> Vec<(String, u32)> {
            list.iter().map(|(id, count)| ((*id).to_owned(), *count)).collect()
        };
        assert_eq!(
            counts(&showing),
            wanted(&[("plein", 1), ("reduit", 0), ("moins-14", 0)]),
            "one of the default type"
        );
        let groups: Vec<&str> = showing.groups(&menu).iter().map(|group| group.id.as_str()).collect();
        assert_eq!(groups, ["lunettes-3d"], "the ticket types are not a group to tick");
        showing.set_tickets("plein", 0);
        assert_eq!(showing.lines(&menu), [], "no ticket, nothing to add");
        showing.set_tickets("reduit", 1);
        showing.set_tickets("moins-14", 2);
        showing.set_tickets("no-such-type", 4);
        showing.toggle(&menu, "lunettes-3d", "location");
        assert_eq!(showing.ticket_count(), 3);
        let lines: Vec<(String, u32, Vec<String>)> = showing
            .lines(&menu)
            .into_iter()
            .map(|line| (line.product, line.quantity, line.modifiers.into_values().flatten().collect()))
            .collect();
        let line = |quantity: u32, options: [&str; 2]| {
            ("orbite-basse-1615".to_owned(), quantity, options.map(str::to_owned).to_vec())
        };
        assert_eq!(lines, [line(1, ["location", "reduit"]), line(2, ["location", "moins-14"])], "a line per type");
        showing.set_tickets("plein", 1000);
        assert_eq!(showing.ticket_count(), kiosk_engine::kiosk_core::cart::MAX_QUANTITY, "within a line's most units");
        let popcorn = ProductBuilder::new(&menu, "popcorn-sucre").unwrap();
        assert_eq!((popcorn.ticket_count(), popcorn.ticket_types(&menu)), (0, None), "not a showing");
    }
}

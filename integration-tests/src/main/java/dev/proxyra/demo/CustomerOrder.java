package dev.proxyra.demo;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import java.util.UUID;

/** A row of {@code orders} through JPA. The database sets {@code owner} (default current_user). */
@Entity
@Table(name = "orders")
public class CustomerOrder {

    @Id
    private UUID id;

    @Column(insertable = false, updatable = false)
    private String owner;

    @Column(nullable = false)
    private String item;

    protected CustomerOrder() {
    }

    public CustomerOrder(String item) {
        this.id = UUID.randomUUID();
        this.item = item;
    }

    public UUID getId() {
        return id;
    }

    public String getOwner() {
        return owner;
    }

    public String getItem() {
        return item;
    }
}
